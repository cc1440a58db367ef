-- Every trigger on reviews, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks reviews only.

-- The BI rollups are recounted per queued period: a review added or removed changes its workshop's ratings for the session's day.
CREATE OR REPLACE TRIGGER analytics_changes_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.analytics_changes_reviews_trg();

-- The BI rollups are recounted per queued period: a new rating or reviewed session changes the ratings of the periods involved.
CREATE OR REPLACE TRIGGER analytics_changes_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.session_id IS DISTINCT FROM new.session_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.analytics_changes_reviews_trg();

-- A TRUNCATE fires no row trigger: the analytics rollups are recounted from scratch, or they would count rows that are gone.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_reviews
AFTER TRUNCATE ON reviews
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- A review of an assigned request's session: queue it for the experiment rollup.
CREATE OR REPLACE TRIGGER experiment_changes_reviews
AFTER INSERT OR UPDATE OF rating ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.experiment_changes_trg();

-- The ranking's shrunk ratings read the mechanic's and the platform's stars, not reviews: a review moves both.
CREATE OR REPLACE TRIGGER ranking_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.ranking_reviews_trg();

-- The ranking's shrunk ratings read the stars, not reviews: a changed rating or mechanic moves them.
CREATE OR REPLACE TRIGGER ranking_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.mechanic_id IS DISTINCT FROM new.mechanic_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.ranking_reviews_trg();

-- The directory shows a workshop's rating without scanning reviews: a review added or removed moves its serving workshop's sums.
CREATE OR REPLACE TRIGGER workshop_stats_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_reviews_trg();

-- The directory shows a workshop's rating without scanning reviews: a changed rating or session moves the sums.
CREATE OR REPLACE TRIGGER workshop_stats_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.session_id IS DISTINCT FROM new.session_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.workshop_stats_reviews_trg();

-- A TRUNCATE fires no row trigger: the per-workshop aggregates are recounted from scratch, or they would count rows now gone.
CREATE OR REPLACE TRIGGER workshop_stats_truncate
AFTER TRUNCATE ON reviews
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.workshop_stats_truncate_trg();
