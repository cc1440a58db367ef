-- workshop_stats: a session inserted with a serving workshop counts for it
-- (function workshop_stats_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();
