-- ssr_private.session_request_insert: the write half of create_session_request, for callers
-- that have validated their inputs (create_session_request itself, and fulfill_checkout,
-- which checked the customer, the active plan, the intake and the routing choice and has
-- just created the session): decides the hybrid window and the expiry, inserts the
-- request, writes the audit events (created, window_skipped, offered: one statement) and
-- announces it on the outbox / pg_notify channels. Inputs: as create_session_request,
-- plus p_type (the normalised routing type from validate_routing_choice) and
-- p_routing_type (what the caller asked for, kept in the audit).
-- The parameters come from the request's routing policy (ssr_private.routing_assignment:
-- a running experiment's arm, recorded in routing_experiment_assignments, else the preferred
-- workshop's policy, else the default), stored in session_requests.routing_policy_id.
--   * hybrid: exclusive window of the policy's hybrid_window_seconds for the preferred
--     workshop, skipped (event window_skipped) when it has nobody available right now
--     (reason no_available_mechanic_in_preferred_workshop) or everyone available is at
--     their capacity (reason preferred_workshop_at_capacity: routing_offerable_mechanics);
--   * expires_at: workshop_only after workshop_only_wait_seconds, others after
--     open_wait_seconds (NULL: never).
-- Idempotent per session: a second call for a session that already has the same request
-- returns that request unchanged; a different request for it raises SR409.
CREATE OR REPLACE FUNCTION ssr_private.session_request_insert(
    p_customer_id uuid,
    p_plan_code text,
    p_session_id uuid,
    p_intake_id uuid,
    p_preferred_workshop_id uuid,
    p_type text,
    p_routing_type text
) RETURNS session_requests
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_now timestamptz := now();
    v_req session_requests;
    v_settings routing_settings;
    v_total integer;
    v_preferred integer;
    v_exclusive_until timestamptz;
    v_expires_at timestamptz;
    v_skip_reason text;
    v_audience text;
    v_assign record;
    v_params jsonb;
BEGIN
    -- The request's routing policy (an experiment's arm, the workshop's, the default) and
    -- its parameters, in the shape of the deprecated routing_settings row.
    v_assign := ssr_private.routing_assignment(p_customer_id, p_preferred_workshop_id, p_type, v_now);
    v_params := ssr_private.routing_policy_params(v_assign.routing_policy_id);
    v_settings := ROW(
        TRUE, (v_params ->> 'hybrid_window_seconds')::integer, (v_params ->> 'workshop_only_wait_seconds')::integer,
        (v_params ->> 'open_wait_seconds')::integer, v_now
    )::routing_settings;

    -- Candidates now, from the maintained counts (routing_mechanic_eligible is the rule):
    -- the preferred workshop's, which validate_routing_choice found active, and everyone's.
    v_preferred := 0;
    IF p_preferred_workshop_id IS NOT NULL THEN
        SELECT ws.available_mechanics INTO v_preferred
        FROM workshop_stats AS ws WHERE ws.workshop_id = p_preferred_workshop_id;
        v_preferred := coalesce(v_preferred, 0);
    END IF;
    IF p_type = 'workshop_only' THEN
        v_total := v_preferred;
    ELSE
        SELECT rc.eligible_mechanics INTO v_total FROM routing_candidates AS rc;
        v_total := coalesce(v_total, 0);
    END IF;

    IF p_type = 'hybrid' THEN
        IF v_settings.hybrid_window_seconds = 0 THEN
            v_skip_reason := 'window_disabled';
        ELSIF v_preferred = 0 THEN
            v_skip_reason := 'no_available_mechanic_in_preferred_workshop';
        ELSIF NOT EXISTS (
            -- Present, but is anyone below their capacity? (the rule: routing_offerable_mechanics)
            SELECT 1 FROM ssr_private.routing_offerable_mechanics AS om
            WHERE om.workshop_id = p_preferred_workshop_id
        ) THEN
            v_skip_reason := 'preferred_workshop_at_capacity';
        ELSE
            v_exclusive_until := v_now + make_interval(secs => v_settings.hybrid_window_seconds);
        END IF;
    END IF;
    IF p_type = 'workshop_only' THEN
        v_expires_at := v_now + make_interval(secs => v_settings.workshop_only_wait_seconds);
    ELSIF v_settings.open_wait_seconds IS NOT NULL THEN
        v_expires_at := v_now + make_interval(secs => v_settings.open_wait_seconds);
    END IF;

    INSERT INTO session_requests (
        session_id, customer_id, plan_code, intake_id, preferred_workshop_id, routing_type,
        exclusive_until, expires_at, created_at, routing_policy_id
    ) VALUES (
        p_session_id, p_customer_id, p_plan_code, p_intake_id, p_preferred_workshop_id, p_type,
        v_exclusive_until, v_expires_at, v_now, v_assign.routing_policy_id
    )
    ON CONFLICT (session_id) DO NOTHING
    RETURNING * INTO v_req;

    IF NOT FOUND THEN
        -- The session already has a request: same one again is a no-op, anything else a conflict.
        SELECT * INTO v_req FROM session_requests AS r WHERE r.session_id = p_session_id;
        IF
            v_req.customer_id = p_customer_id
            AND v_req.plan_code = p_plan_code
            AND v_req.routing_type = p_type
            AND v_req.preferred_workshop_id IS NOT DISTINCT FROM p_preferred_workshop_id
            AND v_req.intake_id IS NOT DISTINCT FROM p_intake_id
            THEN
            RETURN v_req;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('session_id %s already has a different session request %s', p_session_id, v_req.id),
            COLUMN = 'session_id';
    END IF;

    IF v_assign.experiment_id IS NOT NULL THEN
        PERFORM ssr_private.experiment_assignment_record(v_req, v_assign.experiment_id, v_assign.arm,
            v_assign.unit_key, v_assign.window_start);
    END IF;
    v_audience := CASE WHEN p_type = 'workshop_only' OR v_req.exclusive_until IS NOT NULL THEN 'workshop'
        ELSE 'everyone' END;
    INSERT INTO routing_events (request_id, event_type, workshop_id, detail)
    SELECT v_req.id, e.event_type, v_req.preferred_workshop_id, e.detail
    FROM (
        VALUES
        (
            1, 'created',
            jsonb_build_object(
                'routing_type', p_type,
                'requested_routing_type', p_routing_type,
                'candidate_count', v_total,
                'preferred_candidate_count', v_preferred,
                'hybrid_window_seconds', CASE WHEN p_type = 'hybrid' THEN v_settings.hybrid_window_seconds END,
                'exclusive_until', v_req.exclusive_until,
                'expires_at', v_req.expires_at
            )
        ),
        (
            2, 'window_skipped',
            CASE WHEN v_skip_reason IS NOT NULL THEN
                jsonb_build_object(
                    'reason', v_skip_reason,
                    'hybrid_window_seconds', v_settings.hybrid_window_seconds,
                    'preferred_candidate_count', v_preferred
                )
            END
        ),
        (
            3, 'offered',
            jsonb_build_object(
                'audience', v_audience,
                'candidate_count', CASE WHEN v_audience = 'workshop' THEN v_preferred ELSE v_total END,
                'until', CASE WHEN v_audience = 'workshop' THEN v_req.exclusive_until END
            )
        )
    ) AS e (seq, event_type, detail)
    WHERE e.detail IS NOT NULL
    ORDER BY e.seq;

    v_req := ssr_private.offer_dispatch_start(v_req, v_now);  -- distribution by the policy (offers)
    PERFORM ssr_private.routing_publish(v_req, 'created');
    RETURN v_req;
END
$$;

COMMENT ON FUNCTION ssr_private.session_request_insert(uuid, text, uuid, uuid, uuid, text, text) IS
'Inserts a validated session request with its window, expiry, audit events and notifications (create_session_request '
'and fulfill_checkout validate first); SR409 if the session has a different request.';

REVOKE ALL ON FUNCTION ssr_private.session_request_insert(uuid, text, uuid, uuid, uuid, text, text) FROM PUBLIC;
