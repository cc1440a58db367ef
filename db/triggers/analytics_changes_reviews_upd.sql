-- analytics_changes: a review's change queues its session's period (function analytics_changes_reviews_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.session_id IS DISTINCT FROM new.session_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.analytics_changes_reviews_trg();
