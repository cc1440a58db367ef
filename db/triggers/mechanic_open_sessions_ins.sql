-- mechanics.open_sessions: a session inserted already assigned and waiting or live takes a
-- slot of its mechanic (function mechanic_open_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER mechanic_open_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.mechanic_id IS NOT NULL AND new.status IN ('waiting', 'live'))
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();
