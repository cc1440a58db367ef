-- routing_raise_refusal: raises why a request is not offered to a mechanic now; shared by
-- accept_session_request and decline_session_request once their conditional write matched
-- nothing. Reads the latest committed state. Always raises, checked in this order:
--   SR404 (request_id) unknown request;  SR404 (mechanic_id) unknown mechanic;
--   SR403 (mechanic_id) not eligible (routing_mechanic_eligible: not active, not available,
--         or of a workshop that is not active), outside their working hours
--         (ssr_private.hours_open_at), or outside the workshop of a workshop_only
--         request;
--   SR409 (request_id) request taken, expired or cancelled, or past expires_at;
--   SR409 (request_id) the mechanic declined it;
--   SR409 (mechanic_id) the mechanic is at capacity (routing_mechanic_offerable: the rule);
--   SR403 (mechanic_id) outside the preferred workshop during a hybrid request's window;
--   SR403 (mechanic_id) another mechanic inside the returning customer's window, or without
--         the request's required skills before they relax;
--   SR409 (request_id) otherwise (the row changed meanwhile: try again).
CREATE OR REPLACE FUNCTION ssr_private.routing_raise_refusal(p_request_id uuid, p_mechanic_id uuid, p_now timestamptz)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_req session_requests;
    v_mech record;
BEGIN
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_request_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('request_id %s: no such session request', p_request_id),
            COLUMN = 'request_id';
    END IF;
    SELECT
        m.id, m.workshop_id, m.status, m.is_available, m.capacity, m.open_sessions, o.status AS workshop_status,
        m.hours_scheduled
    INTO v_mech
    FROM mechanics AS m LEFT JOIN organizations AS o ON m.workshop_id = o.id
    WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    -- Who may take work is decided by the rule's functions (routing_mechanic_eligible, then
    -- routing_mechanic_offerable for capacity below); the messages only name which part failed.
    IF NOT routing_mechanic_eligible(v_mech.status, v_mech.is_available, v_mech.workshop_id, v_mech.workshop_status) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'mechanic %s is not eligible: %s', p_mechanic_id,
                CASE
                    WHEN v_mech.status <> 'active' THEN 'mechanic is ' || v_mech.status
                    WHEN NOT v_mech.is_available THEN 'mechanic is not available'
                    ELSE 'their workshop is ' || coalesce(v_mech.workshop_status, 'missing')
                END
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_mech.hours_scheduled AND NOT ssr_private.hours_open_at(v_mech.id, v_mech.workshop_id, p_now) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format('mechanic %s is outside their working hours', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    IF
        v_req.routing_type = 'workshop_only'
        AND v_mech.workshop_id IS DISTINCT FROM v_req.preferred_workshop_id
        THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'session request %s is for workshop %s only; mechanic %s is not one of its mechanics',
                p_request_id, v_req.preferred_workshop_id, p_mechanic_id
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_req.status <> 'pending' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format(
                'session request %s is %s',
                p_request_id,
                CASE
                    WHEN v_req.status <> 'accepted' THEN v_req.status
                    WHEN v_req.mechanic_id = p_mechanic_id THEN 'already accepted by this mechanic'
                    ELSE 'already taken by another mechanic'
                END
            ),
            COLUMN = 'request_id';
    END IF;
    IF v_req.expires_at IS NOT NULL AND v_req.expires_at <= p_now THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409', MESSAGE = format('session request %s expired at %s', p_request_id, v_req.expires_at),
            COLUMN = 'request_id';
    END IF;
    IF p_mechanic_id = ANY(v_req.declined_by) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('session request %s was declined by mechanic %s', p_request_id, p_mechanic_id),
            COLUMN = 'request_id';
    END IF;
    IF NOT routing_mechanic_offerable(
        v_mech.status, v_mech.is_available, v_mech.workshop_id, v_mech.workshop_status,
        v_mech.open_sessions, v_mech.capacity
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format(
                'mechanic %s is at capacity: %s of %s session(s) open; complete or close one first',
                p_mechanic_id, v_mech.open_sessions, v_mech.capacity
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_req.routing_type = 'hybrid' AND v_req.exclusive_until > p_now THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'session request %s is reserved for workshop %s until %s',
                p_request_id, v_req.preferred_workshop_id, v_req.exclusive_until
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF
        v_req.returning_until > p_now AND p_mechanic_id IS DISTINCT FROM v_req.returning_mechanic_id
        AND NOT v_req.returning_mechanic_id = ANY(v_req.declined_by)
        THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'session request %s is reserved for the customer''s previous mechanic until %s',
                p_request_id, v_req.returning_until
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF
        cardinality(v_req.required_skills) > 0 AND coalesce(v_req.skills_relax_at > p_now, TRUE)
        AND NOT v_req.required_skills <@ coalesce(ssr_private.mechanic_skills(p_mechanic_id), '{}')
        THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'session request %s needs skills %s until %s', p_request_id,
                array_to_string(v_req.required_skills, ', '), coalesce(v_req.skills_relax_at::text, 'it is taken')
            ),
            COLUMN = 'mechanic_id';
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'SR409', MESSAGE = format('session request %s could not be taken now, try again', p_request_id),
        COLUMN = 'request_id';
END
$$;

COMMENT ON FUNCTION ssr_private.routing_raise_refusal(uuid, uuid, timestamptz) IS
'Raises the reason a request is not offered to a mechanic now (SR404, SR403, SR409 in a fixed order); '
'used by accept_session_request and decline_session_request.';
REVOKE ALL ON FUNCTION ssr_private.routing_raise_refusal(uuid, uuid, timestamptz) FROM PUBLIC;
