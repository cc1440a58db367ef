-- decline_session_request: a mechanic declines a request offered to them now; it is never
-- offered to them again (offers, the mechanic policy and accept all skip it). Records a
-- session_request_declines row (a trigger copies it to session_requests.declined_by and
-- writes the 'declined' routing event). Then, with the request row still locked (so
-- concurrent declines of one request are seen by each other):
--   hybrid inside its exclusive window, declined by a mechanic of the preferred workshop,
--     and nobody of that workshop left available who has not declined: the window ends
--     now (escalated_at = exclusive_until = now(), reason preferred_workshop_declined),
--     unless the request's routing policy sets escalate_on_preferred_declines false (the
--     window then runs to its end, the sweep escalates it);
--   workshop_only, and nobody of the workshop left available who has not declined: it
--     ends like an expiry, by the sweep's own transition (status expired, outcome
--     expired_no_mechanic: refund due; reason all_declined in the audit).
-- "Available" is routing_offerable_mechanics (busy mechanics at capacity are not).
-- Errors, in this order: SR400 request_id / mechanic_id missing, reason longer than 500;
-- SR403 (mechanic_id) the transaction does not verifiably act for that mechanic
-- (ssr_private.assert_acting_for: fail-closed); then, unless the
-- mechanic already declined it (a retry returns the decline unchanged), the reasons of
-- routing_raise_refusal: SR404 unknown request / mechanic; SR403 not eligible or outside a
-- workshop_only request's workshop; SR409 taken / expired / cancelled; SR409 (mechanic_id)
-- at capacity; SR403 outside the preferred workshop inside a hybrid window; SR409
-- (request_id) a request in a targeted stage whose live offer the mechanic does not hold
-- (ssr_private.offer_raise_not_offered).
-- Offers: the mechanic's offer row is locked after the request's (a racing timeout sweep
-- skips it) and recorded declined with the reason (ssr_private.offer_record: the live offer,
-- or a row written now in the open stage); a targeted request left with no live offer gets
-- its next wave at the sweep's next pass (dispatch_next_at = now).
CREATE OR REPLACE FUNCTION decline_session_request(
    p_request_id uuid,
    p_mechanic_id uuid,
    p_reason text DEFAULT NULL
) RETURNS TABLE (
    request_id uuid,
    mechanic_id uuid,
    offered_at timestamptz,
    declined_at timestamptz,
    request_status text,
    escalated_at timestamptz
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := now();
    v_req session_requests;
    v_decline session_request_declines;
    v_workshop uuid;
    v_eligible boolean;
BEGIN
    IF p_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    IF length(p_reason) > 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('reason is at most 500 characters (got %s)', length(p_reason)),
            COLUMN = 'reason';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    -- Declines of one request queue here: the checks below see the earlier ones.
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_request_id FOR UPDATE;
    IF v_req.dispatch_mode IS NOT NULL THEN  -- only requests distributed in waves have live offers
        PERFORM 1 FROM offers AS o
        WHERE o.session_request_id = p_request_id AND o.mechanic_id = p_mechanic_id
        FOR UPDATE;
    END IF;
    SELECT * INTO v_decline
    FROM session_request_declines AS d
    WHERE d.request_id = p_request_id AND d.mechanic_id = p_mechanic_id;
    IF FOUND THEN
        RETURN QUERY SELECT
            v_decline.request_id, v_decline.mechanic_id, v_decline.offered_at, v_decline.declined_at,
            v_req.status, v_req.escalated_at;
        RETURN;
    END IF;

    SELECT a.workshop_id, TRUE INTO v_workshop, v_eligible
    FROM ssr_private.routing_offerable_mechanics AS a WHERE a.mechanic_id = p_mechanic_id;
    IF
        v_req.id IS NULL OR v_eligible IS NULL
        OR NOT ssr_private.routing_offered(v_req, p_mechanic_id, v_workshop, v_now)
        THEN
        PERFORM ssr_private.routing_raise_refusal(p_request_id, p_mechanic_id, v_now);
    END IF;
    IF NOT ssr_private.offer_targeted_allows(v_req, p_mechanic_id, v_now) THEN
        PERFORM ssr_private.offer_raise_not_offered(p_request_id, p_mechanic_id, v_now);
        PERFORM ssr_private.routing_raise_refusal(p_request_id, p_mechanic_id, v_now);
    END IF;

    INSERT INTO session_request_declines (request_id, mechanic_id, workshop_id, offered_at, declined_at, reason)
    VALUES (
        p_request_id, p_mechanic_id, v_workshop,
        CASE
            WHEN
                v_req.routing_type = 'hybrid' AND v_req.exclusive_until IS NOT NULL
                AND v_workshop IS DISTINCT FROM v_req.preferred_workshop_id
                THEN greatest(v_req.exclusive_until, v_req.created_at)
            ELSE v_req.created_at
        END,
        v_now,
        nullif(btrim(p_reason), '')
    )
    RETURNING * INTO v_decline;
    PERFORM ssr_private.offer_record(v_req, p_mechanic_id, v_workshop, 'declined', p_reason, v_now);
    IF
        v_req.dispatch_next_at > v_now
        AND NOT EXISTS (SELECT 1 FROM offers AS o WHERE o.session_request_id = p_request_id AND o.outcome IS NULL)
        THEN
        UPDATE session_requests AS r SET dispatch_next_at = v_now WHERE r.id = p_request_id;
    END IF;

    IF
        v_req.routing_type IN ('hybrid', 'workshop_only')
        AND v_workshop = v_req.preferred_workshop_id
        AND NOT EXISTS (
            SELECT 1
            FROM ssr_private.routing_offerable_mechanics AS a
            INNER JOIN session_requests AS r ON r.id = p_request_id
            WHERE a.workshop_id = v_req.preferred_workshop_id AND NOT a.mechanic_id = ANY(r.declined_by)
        )
        THEN
        IF
            v_req.routing_type = 'hybrid' AND v_req.escalated_at IS NULL AND v_req.exclusive_until > v_now
            -- the request's routing policy may keep the window to its end instead
            AND (ssr_private.routing_policy_params(v_req.routing_policy_id) ->> 'escalate_on_preferred_declines')::boolean
            THEN
            PERFORM set_config('routing.reason', 'preferred_workshop_declined', TRUE);
            UPDATE session_requests AS r
            SET escalated_at = v_now, exclusive_until = v_now
            WHERE r.id = p_request_id
            RETURNING * INTO v_req;
            PERFORM set_config('routing.reason', '', TRUE);
        ELSIF v_req.routing_type = 'workshop_only' THEN
            -- The sweep's expiry (sweep_session_requests step 1), for this one request.
            PERFORM set_config('routing.reason', 'all_declined', TRUE);
            UPDATE session_requests AS r
            SET status = 'expired', closed_at = greatest(v_now, r.created_at), outcome = 'expired_no_mechanic'
            WHERE r.id = p_request_id AND r.status = 'pending'
            RETURNING * INTO v_req;
            PERFORM set_config('routing.reason', '', TRUE);
        END IF;
    END IF;

    RETURN QUERY SELECT
        v_decline.request_id, v_decline.mechanic_id, v_decline.offered_at, v_decline.declined_at,
        v_req.status, v_req.escalated_at;
END
$$;

COMMENT ON FUNCTION decline_session_request(uuid, uuid, text) IS
'A mechanic declines a request offered to them (never offered to them again); ends a hybrid window or a workshop_only '
'request when the preferred workshop''s available mechanics have all declined. Returns the decline and the request''s '
'status and escalated_at.';
