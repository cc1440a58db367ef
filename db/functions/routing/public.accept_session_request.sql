-- accept_session_request: a mechanic takes a pending request. Race-safe: ONE conditional
-- UPDATE (mechanic eligible and below capacity: routing_offerable_mechanics; the request
-- offered to them now: ssr_private.routing_offered, pending, not expired, not declined); of any number of concurrent accepts exactly one changes the row,
-- the others re-check it after the winner commits, match nothing and get SR409. Triggers then fill workshop_id on the
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
--   SR409 (request_id) the mechanic declined it;
--   SR409 (mechanic_id) the mechanic is at capacity (open_sessions >= capacity);
--   SR403 outside the preferred workshop during the exclusive window of a hybrid request.
-- (routing_raise_refusal raises them; decline_session_request shares it.)
-- Capacity is race-safe: the mechanic's row is locked (after the request's), so two
-- accepts by one mechanic run one after the other and the second sees the first's slot.
-- Accepting again a request one already holds returns it unchanged (retries are safe).
-- The row is first locked by its primary key and then updated by its ctid: the planner
-- cannot be lured onto a partial "pending" index by statistics left stale by a burst of
-- new requests (measured by make bench: 26 instead of 551 accepts/s before ANALYZE).
-- The UPDATE keeps every condition, so it stays a conditional update under the lock.
-- Offers: a request in a targeted stage (staggered, round_robin waves) is accepted only by a
-- mechanic holding a live offer of it (ssr_private.offer_targeted_allows, beside the offer
-- rule; else SR409 request_id from ssr_private.offer_raise_not_offered). The mechanic's offer
-- row is locked after the request's row, so a timeout sweep (SKIP LOCKED) racing the accept
-- leaves it to the accept, and an accept racing a sweep that got there first sees it timed
-- out: one outcome. On success the offer is recorded accepted (ssr_private.offer_record; in
-- the open stage the row is written now) and the trigger offers_request_closed rescinds the
-- request's other live offers, in the same transaction.
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
    v_ctid tid;
    v_dispatch_mode text;
BEGIN
    IF p_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    -- Concurrent accepts queue here; each then sees the latest committed version of the row.
    SELECT r.ctid, r.dispatch_mode INTO v_ctid, v_dispatch_mode
    FROM session_requests AS r WHERE r.id = p_request_id FOR UPDATE;
    -- The mechanic's offer, after the request: a timeout sweep skips it from here on (only a
    -- request distributed in waves has live offers: broadcast writes its rows when one acts).
    IF v_dispatch_mode IS NOT NULL THEN
        PERFORM 1 FROM offers AS o
        WHERE o.session_request_id = p_request_id AND o.mechanic_id = p_mechanic_id
        FOR UPDATE;
    END IF;

    -- Capacity: one mechanic's accepts (of different requests) queue on the mechanic's row,
    -- and each then sees the slots the previous ones took (mechanics.open_sessions, in the
    -- eligibility view the UPDATE reads). Request, then mechanic: the order in which the
    -- triggers of every other write lock them (request -> session -> mechanic), so no
    -- deadlock. NO KEY UPDATE does not block foreign-key checks referencing the mechanic.
    PERFORM 1 FROM mechanics AS m WHERE m.id = p_mechanic_id FOR NO KEY UPDATE;

    UPDATE session_requests AS r
    SET
        status = 'accepted',
        mechanic_id = a.mechanic_id,
        accepted_at = v_now,
        outcome = 'accepted'
    FROM ssr_private.routing_offerable_mechanics AS a
    WHERE
        r.ctid = v_ctid
        AND r.id = p_request_id
        AND a.mechanic_id = p_mechanic_id
        AND ssr_private.routing_offered(r, p_mechanic_id, a.workshop_id, v_now)
        AND ssr_private.offer_targeted_allows(r, p_mechanic_id, v_now)
    RETURNING r.* INTO v_req;
    IF FOUND THEN
        PERFORM ssr_private.offer_record(v_req, p_mechanic_id, v_req.workshop_id, 'accepted', NULL, v_now);
        RETURN v_req;
    END IF;

    -- Nothing updated: a retry of one's own accept returns the row, anything else says why.
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_request_id;
    IF v_req.status = 'accepted' AND v_req.mechanic_id = p_mechanic_id THEN
        RETURN v_req;
    END IF;
    PERFORM ssr_private.offer_raise_not_offered(p_request_id, p_mechanic_id, v_now);
    PERFORM ssr_private.routing_raise_refusal(p_request_id, p_mechanic_id, v_now);
    RETURN NULL;  -- not reached: routing_raise_refusal always raises
END
$$;

COMMENT ON FUNCTION accept_session_request(uuid, uuid) IS
'Race-safe accept by one conditional UPDATE; raises SR400/SR403/SR404/SR409 with the reason when it cannot.';
