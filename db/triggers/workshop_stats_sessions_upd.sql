-- workshop_stats: a session whose serving workshop changes moves its counts and its review
-- (function workshop_stats_sessions_trg, db/functions/).
-- WHEN is evaluated on the final row, so a workshop_id set by a BEFORE trigger counts too.
CREATE OR REPLACE TRIGGER workshop_stats_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS DISTINCT FROM new.workshop_id)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();
