-- offer_dispatch_start: called by session_request_insert right after a new request is
-- inserted (same transaction). Reads distribution_mode from the request's policy
-- (its routing_policy_id, recorded when it was made: ssr_private.routing_policy_params):
--   broadcast (the default): nothing; no offer row is written at fulfillment (the open
--     stage writes an offer row when a mechanic accepts or declines: offer_record);
--   staggered / round_robin: the request becomes targeted (dispatch_mode, dispatch_wave 0,
--     dispatch_next_at = now + distribution_wave_seconds, targeted_until = now +
--     distribution_waves * distribution_wave_seconds) and wave 0 is offered (offer_wave);
--     a wave that reaches nobody (all busy, offline or capped) waits for the next one, and
--     the schedule ends in the open stage, so every eligible mechanic is reached by then.
-- Returns the request as it is now.
CREATE OR REPLACE FUNCTION ssr_private.offer_dispatch_start(p_request session_requests, p_now timestamptz)
RETURNS session_requests
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb;
    v_mode text;
    v_wave_seconds integer;
    v_req session_requests;
BEGIN
    IF p_request.status <> 'pending' THEN
        RETURN p_request;
    END IF;
    -- Broadcast, the default, reads no more than this: the registry's default mode and whether
    -- any policy sets a mode at all (a handful of rows); then the mode of the request's policy.
    SELECT rp.default_value #>> '{}' INTO v_mode FROM routing_parameters AS rp WHERE rp.name = 'distribution_mode';
    IF
        v_mode = 'broadcast'
        AND NOT EXISTS (SELECT 1 FROM routing_policies AS p WHERE p.params ? 'distribution_mode')
        THEN
        RETURN p_request;
    END IF;
    v_params := ssr_private.routing_policy_params(p_request.routing_policy_id);
    v_mode := v_params ->> 'distribution_mode';
    IF v_mode IS NULL OR v_mode = 'broadcast' THEN
        RETURN p_request;
    END IF;
    v_wave_seconds := (v_params ->> 'distribution_wave_seconds')::integer;
    UPDATE session_requests AS r
    SET
        dispatch_mode = v_mode,
        dispatch_wave = 0,
        dispatch_next_at = p_now + make_interval(secs => v_wave_seconds),
        targeted_until = p_now + make_interval(secs => v_wave_seconds * (v_params ->> 'distribution_waves')::integer)
    WHERE r.id = p_request.id
    RETURNING r.* INTO v_req;
    PERFORM ssr_private.offer_wave(v_req, p_now);
    RETURN v_req;
END
$$;

COMMENT ON FUNCTION ssr_private.offer_dispatch_start(session_requests, timestamptz) IS
'Starts the distribution of a new request by its policy: nothing for broadcast; wave 0 of targeted offers otherwise.';

REVOKE ALL ON FUNCTION ssr_private.offer_dispatch_start(session_requests, timestamptz) FROM PUBLIC;
