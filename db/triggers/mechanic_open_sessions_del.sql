-- mechanics.open_sessions: a deleted session that held a slot frees it (function
-- mechanic_open_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER mechanic_open_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.mechanic_id IS NOT NULL AND old.status IN ('waiting', 'live'))
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();
