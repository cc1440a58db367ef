-- mechanics.open_sessions: a session that starts or stops holding a slot, or moves to another
-- mechanic, moves the counts (function mechanic_open_sessions_trg, db/functions/).
-- WHEN is evaluated on the final row: fires only when the slot holder can change.
CREATE OR REPLACE TRIGGER mechanic_open_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    old.mechanic_id IS DISTINCT FROM new.mechanic_id
    OR (old.status IN ('waiting', 'live')) IS DISTINCT FROM (new.status IN ('waiting', 'live'))
)
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();
