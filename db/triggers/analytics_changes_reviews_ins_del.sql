-- analytics_changes: a review's change queues its session's period (function analytics_changes_reviews_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.analytics_changes_reviews_trg();
