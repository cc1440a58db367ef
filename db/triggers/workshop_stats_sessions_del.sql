-- workshop_stats: a deleted session is subtracted before the row and its review go
-- (function workshop_stats_sessions_trg, db/functions/).
-- Named to fire after other BEFORE DELETE triggers (they fire in name order).
CREATE OR REPLACE TRIGGER workshop_stats_sessions_del
BEFORE DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();
