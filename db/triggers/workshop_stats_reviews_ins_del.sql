-- workshop_stats: a new or deleted review counts for the workshop that served the session
-- (function workshop_stats_reviews_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_reviews_trg();
