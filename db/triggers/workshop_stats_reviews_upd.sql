-- workshop_stats: a review whose rating or session changes moves its counts
-- (function workshop_stats_reviews_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.session_id IS DISTINCT FROM new.session_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.workshop_stats_reviews_trg();
