-- session_transition: moves a session along its life after accept, for the mechanic who
-- accepted it. One conditional UPDATE (assigned to that mechanic, in the expected status),
-- so concurrent calls cannot both move it. p_action:
--   start:    waiting -> live       (started_at = now())
--   complete: live    -> completed  (ended_at = now())
--   no_show:  waiting -> no_show    (ended_at = now(); the customer did not come)
-- completed and no_show free the mechanic's slot (trigger on sessions). Repeating the move
-- that was made returns the session unchanged (retries are safe).
-- Errors, in this order: SR400 session_id / mechanic_id missing, unknown action (COLUMN
-- action); SR403 (mechanic_id) the transaction does not verifiably act for that mechanic
-- (ssr_private.assert_acting_for: fail-closed); SR404
-- (session_id) unknown session; SR403 (mechanic_id) the session is not assigned to that
-- mechanic (also: not accepted yet); SR409 (session_id) the session is not in the status
-- the move starts from.
CREATE OR REPLACE FUNCTION ssr_private.session_transition(p_session_id uuid, p_mechanic_id uuid, p_action text)
RETURNS sessions
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_now timestamptz := now();
    v_from text;
    v_to text;
    v_row sessions;
BEGIN
    IF p_session_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'session_id is required', COLUMN = 'session_id';
    END IF;
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    SELECT t.f, t.t INTO v_from, v_to
    FROM (VALUES ('start', 'waiting', 'live'), ('complete', 'live', 'completed'), ('no_show', 'waiting', 'no_show'))
        AS t (a, f, t)
    WHERE t.a = p_action;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('action must be start, complete or no_show (got %s)', p_action),
            COLUMN = 'action';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    UPDATE sessions AS s
    SET
        status = v_to,
        started_at = CASE WHEN v_to = 'live' THEN v_now ELSE s.started_at END,
        ended_at = CASE WHEN v_to IN ('completed', 'no_show') THEN greatest(v_now, s.started_at) ELSE s.ended_at END
    WHERE s.id = p_session_id AND s.mechanic_id = p_mechanic_id AND s.status = v_from
    RETURNING s.* INTO v_row;
    IF FOUND THEN
        RETURN v_row;
    END IF;

    SELECT * INTO v_row FROM sessions AS s WHERE s.id = p_session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('session_id %s: no such session', p_session_id),
            COLUMN = 'session_id';
    END IF;
    IF v_row.mechanic_id IS DISTINCT FROM p_mechanic_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'session %s is %s', p_session_id,
                CASE
                    WHEN v_row.mechanic_id IS NULL THEN 'not accepted by any mechanic yet'
                    ELSE 'assigned to another mechanic'
                END
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_row.status = v_to THEN
        RETURN v_row;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'SR409',
        MESSAGE = format(
            'session %s is %s: %s needs a %s session', p_session_id, v_row.status,
            replace(p_action, '_', '-'), v_from
        ),
        COLUMN = 'session_id';
END
$$;

COMMENT ON FUNCTION ssr_private.session_transition(uuid, uuid, text) IS
'Moves a session (start: waiting -> live, complete: live -> completed, no_show: waiting -> no_show) for its mechanic; '
'SR400/SR403/SR404/SR409 otherwise. Called by start_session, complete_session and mark_session_no_show.';
REVOKE ALL ON FUNCTION ssr_private.session_transition(uuid, uuid, text) FROM PUBLIC;
