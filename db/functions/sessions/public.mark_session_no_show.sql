-- mark_session_no_show: the mechanic who accepted a session marks a waiting session
-- no-show (the customer did not come): waiting -> no_show (ended_at); frees the slot.
-- A thin wrapper: ssr_private.session_transition(p_session_id, p_mechanic_id, 'no_show') does the work; its errors, in
-- order: SR400 missing id; SR403 (mechanic_id) no verified identity of that mechanic; SR404 unknown
-- session; SR403 (mechanic_id) not this mechanic's session; SR409 (session_id) wrong status.
-- Repeating it returns the session unchanged.
CREATE OR REPLACE FUNCTION mark_session_no_show(p_session_id uuid, p_mechanic_id uuid)
RETURNS sessions
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    -- session_transition checks the ids, then the identity (ssr_private.assert_acting_for).
    SELECT * FROM ssr_private.session_transition(p_session_id, p_mechanic_id, 'no_show');
$$;

COMMENT ON FUNCTION mark_session_no_show(uuid, uuid) IS
'The accepting mechanic marks a waiting session no-show (the customer did not come): waiting -> no_show (ended_at); '
'frees the slot; SR400/SR403/SR404/SR409 otherwise.';
