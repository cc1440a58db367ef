-- 0041: the session's life after accept: waiting -> live -> completed, or waiting -> no_show
-- (start_session, complete_session, mark_session_no_show). The status CHECK gains no_show:
-- replaced NOT VALID (no scan under the lock), validated by 0045. Only sessions is locked.

-- Widening a CHECK drops the narrower one in the same transaction: no client relied on a status
-- being absent, and the new CHECK holds every row the old one did.
ALTER TABLE sessions
-- squawk-ignore ban-drop-constraint
DROP CONSTRAINT sessions_status_check,
ADD CONSTRAINT sessions_status_check
CHECK (status IN ('waiting', 'live', 'completed', 'no_show', 'cancelled', 'refunded')) NOT VALID;
COMMENT ON COLUMN sessions.status IS
'waiting (for a mechanic, then for the call to start), live, completed, no_show (the customer did not come), '
'cancelled, refunded.';
