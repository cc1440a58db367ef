-- Every trigger on reviews, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks reviews only.

-- analytics_changes: a review's change queues its session's period (function analytics_changes_reviews_trg,
-- db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.analytics_changes_reviews_trg();

-- analytics_changes: a review's change queues its session's period (function analytics_changes_reviews_trg,
-- db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.session_id IS DISTINCT FROM new.session_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.analytics_changes_reviews_trg();

-- analytics rollups: a TRUNCATE of reviews (no row triggers fire) recounts them (function
-- analytics_rollups_truncate_trg, db/functions/). One file per table: no transaction of the migration runner
-- locks both sessions and session_requests.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_reviews
AFTER TRUNCATE ON reviews
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- workshop_stats: a new or deleted review counts for the workshop that served the session (function
-- workshop_stats_reviews_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_reviews_ins_del
AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_reviews_trg();

-- workshop_stats: a review whose rating or session changes moves its counts (function
-- workshop_stats_reviews_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_reviews_upd
AFTER UPDATE ON reviews
FOR EACH ROW
WHEN (old.session_id IS DISTINCT FROM new.session_id OR old.rating IS DISTINCT FROM new.rating)
EXECUTE FUNCTION ssr_private.workshop_stats_reviews_trg();

-- Function ssr_private.workshop_stats_truncate_trg
-- (db/functions/workshop_stats/ssr_private.workshop_stats_truncate_trg.sql): workshop_stats: TRUNCATE fires
-- no row triggers, so a TRUNCATE of mechanics, sessions or reviews recounts the aggregates from scratch
-- (workshop_stats_rebuild).
CREATE OR REPLACE TRIGGER workshop_stats_truncate
AFTER TRUNCATE ON reviews
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.workshop_stats_truncate_trg();
