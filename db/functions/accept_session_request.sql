-- accept_session_request: a mechanic takes a pending request. Race-safe: ONE conditional
-- UPDATE (pending, not expired, mechanic eligible, offered to them now); of any number of
-- concurrent accepts exactly one changes the row, the others re-check it after the
-- winner commits, match nothing and get SR409. Triggers then fill workshop_id on the
-- request and mechanic_id / workshop_id / preferred_workshop_id on the session, and
-- record and announce the 'accepted' event, all in the same transaction.
-- When nothing was updated the reason is raised, checked in this order:
--   SR400 request_id / mechanic_id missing;
--   SR403 (COLUMN mechanic_id) the transaction does not verifiably act for mechanic_id
--         (ssr_private.assert_acting_for: app.mechanic_id set by the app login, or the
--         sub of request.jwt.claims for the role mechanic; no identity is refused too);
--   SR404 unknown request_id / mechanic_id;
--   SR403 mechanic not active / not available / of a workshop that is not active, or
--         outside the workshop of a workshop_only request (never allowed, whatever the
--         request's state);
--   SR409 request already taken, expired or cancelled (also: past expires_at);
--   SR403 outside the preferred workshop during the exclusive window of a hybrid request.
-- Accepting again a request one already holds returns it unchanged (retries are safe).
-- The row is first locked by its primary key and then updated by its ctid: the planner
-- cannot be lured onto a partial "pending" index by statistics left stale by a burst of
-- new requests (measured by make bench: 26 instead of 551 accepts/s before ANALYZE).
-- The UPDATE keeps every condition, so it stays a conditional update under the lock.
CREATE OR REPLACE FUNCTION accept_session_request(p_request_id uuid, p_mechanic_id uuid)
RETURNS session_requests
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_now timestamptz := now();
    v_req session_requests;
    v_mech record;
    v_ctid tid;
BEGIN
    IF p_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    -- Concurrent accepts queue here; each then sees the latest committed version of the row.
    SELECT r.ctid INTO v_ctid FROM session_requests AS r WHERE r.id = p_request_id FOR UPDATE;

    UPDATE session_requests AS r
    SET
        status = 'accepted',
        mechanic_id = a.mechanic_id,
        accepted_at = v_now,
        outcome = 'accepted'
    FROM ssr_private.routing_available_mechanics AS a
    WHERE
        r.ctid = v_ctid
        AND r.id = p_request_id
        AND r.status = 'pending'
        AND (r.expires_at IS NULL OR r.expires_at > v_now)
        AND a.mechanic_id = p_mechanic_id
        AND ssr_private.routing_offer_score(r.routing_type, r.preferred_workshop_id, r.exclusive_until, a.workshop_id, v_now)
        IS NOT NULL
    RETURNING r.* INTO v_req;
    IF FOUND THEN
        RETURN v_req;
    END IF;

    -- Nothing updated: say why (reads the latest committed state).
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_request_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('request_id %s: no such session request', p_request_id),
            COLUMN = 'request_id';
    END IF;
    SELECT m.id, m.workshop_id, m.status, m.is_available, o.status AS workshop_status
    INTO v_mech
    FROM mechanics AS m LEFT JOIN organizations AS o ON m.workshop_id = o.id
    WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_req.status = 'accepted' AND v_req.mechanic_id = p_mechanic_id THEN
        RETURN v_req;
    END IF;
    IF v_mech.status <> 'active' OR NOT v_mech.is_available THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'mechanic %s is not eligible: %s', p_mechanic_id,
                CASE WHEN v_mech.status <> 'active' THEN 'mechanic is ' || v_mech.status ELSE 'mechanic is not available' END
            ),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_mech.workshop_id IS NOT NULL AND v_mech.workshop_status <> 'active' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format('mechanic %s is not eligible: their workshop is %s', p_mechanic_id, v_mech.workshop_status),
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
                CASE v_req.status WHEN 'accepted' THEN 'already taken by another mechanic' ELSE v_req.status END
            ),
            COLUMN = 'request_id';
    END IF;
    IF v_req.expires_at IS NOT NULL AND v_req.expires_at <= v_now THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409', MESSAGE = format('session request %s expired at %s', p_request_id, v_req.expires_at),
            COLUMN = 'request_id';
    END IF;
    IF v_req.routing_type = 'hybrid' AND v_req.exclusive_until > v_now THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                'session request %s is reserved for workshop %s until %s',
                p_request_id, v_req.preferred_workshop_id, v_req.exclusive_until
            ),
            COLUMN = 'mechanic_id';
    END IF;
    -- The row changed between the update and this check (e.g. taken just now).
    RAISE EXCEPTION USING
        ERRCODE = 'SR409', MESSAGE = format('session request %s could not be accepted, try again', p_request_id),
        COLUMN = 'request_id';
END
$$;

COMMENT ON FUNCTION accept_session_request(uuid, uuid) IS
'Race-safe accept by one conditional UPDATE; raises SR400/SR403/SR404/SR409 with the reason when it cannot.';
