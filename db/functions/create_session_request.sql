-- create_session_request: records a paid request for a mechanic with its routing choice,
-- decides the hybrid window and the expiry, writes the audit events (created,
-- window_skipped, offered) and announces it on the outbox / pg_notify channels.
--   * routing type and workshop are checked by validate_routing_choice (SR400 / SR404);
--   * unknown customer, plan (or inactive plan), session or intake: SR404 naming the field;
--     a session or intake of another customer, or a session of another plan: SR400;
--   * hybrid: exclusive window of routing_settings.hybrid_window_seconds for the preferred
--     workshop, skipped (event window_skipped) when it has nobody available right now;
--   * expires_at: workshop_only after workshop_only_wait_seconds, others after
--     open_wait_seconds (NULL: never).
-- Idempotent per session: calling it again for a session that already has the same
-- request returns that request unchanged; a different request for it raises SR409.
CREATE OR REPLACE FUNCTION create_session_request(
    p_customer_id uuid,
    p_plan_code text,
    p_session_id uuid,
    p_intake_id uuid,
    p_preferred_workshop_id uuid,
    p_routing_type text DEFAULT 'broadcast'
) RETURNS session_requests
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_now timestamptz := now();
    v_type text;
    v_req session_requests;
    v_session record;
    v_intake_customer uuid;
    v_plan_active boolean;
    v_settings routing_settings;
    v_total integer;
    v_preferred integer;
    v_exclusive_until timestamptz;
    v_expires_at timestamptz;
    v_skip_reason text;
BEGIN
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_id is required', COLUMN = 'customer_id';
    END IF;
    IF p_plan_code IS NULL OR btrim(p_plan_code) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'plan_code is required', COLUMN = 'plan_code';
    END IF;
    PERFORM 1 FROM customers AS c WHERE c.id = p_customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('customer_id %s: no such customer', p_customer_id),
            COLUMN = 'customer_id';
    END IF;
    SELECT p.is_active INTO v_plan_active FROM plans AS p WHERE p.code = p_plan_code;
    IF NOT coalesce(v_plan_active, FALSE) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404',
            MESSAGE = format('plan_code %L: no such plan or plan not active', p_plan_code),
            COLUMN = 'plan_code';
    END IF;

    v_type := ssr_private.validate_routing_choice(p_preferred_workshop_id, p_routing_type);

    IF p_session_id IS NOT NULL THEN
        SELECT s.customer_id, s.plan_code INTO v_session FROM sessions AS s WHERE s.id = p_session_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR404', MESSAGE = format('session_id %s: no such session', p_session_id),
                COLUMN = 'session_id';
        END IF;
        IF v_session.customer_id <> p_customer_id THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400', MESSAGE = 'session_id belongs to another customer', COLUMN = 'session_id';
        END IF;
        IF v_session.plan_code <> p_plan_code THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = format('plan_code %L differs from the session''s plan %L', p_plan_code, v_session.plan_code),
                COLUMN = 'plan_code';
        END IF;
    END IF;
    IF p_intake_id IS NOT NULL THEN
        SELECT i.customer_id INTO v_intake_customer FROM intakes AS i WHERE i.id = p_intake_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR404', MESSAGE = format('intake_id %s: no such intake', p_intake_id),
                COLUMN = 'intake_id';
        END IF;
        IF v_intake_customer <> p_customer_id THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400', MESSAGE = 'intake_id belongs to another customer', COLUMN = 'intake_id';
        END IF;
    END IF;

    SELECT * INTO v_settings FROM routing_settings LIMIT 1;
    IF NOT FOUND THEN
        v_settings := ROW(TRUE, 60, 600, 1800, v_now)::routing_settings;
    END IF;

    -- Candidates now, from the maintained counts (routing_mechanic_eligible is the rule):
    -- the preferred workshop's, which validate_routing_choice found active, and everyone's.
    v_preferred := 0;
    IF p_preferred_workshop_id IS NOT NULL THEN
        SELECT ws.available_mechanics INTO v_preferred
        FROM workshop_stats AS ws WHERE ws.workshop_id = p_preferred_workshop_id;
        v_preferred := coalesce(v_preferred, 0);
    END IF;
    IF v_type = 'workshop_only' THEN
        v_total := v_preferred;
    ELSE
        SELECT rc.eligible_mechanics INTO v_total FROM routing_candidates AS rc;
        v_total := coalesce(v_total, 0);
    END IF;

    IF v_type = 'hybrid' THEN
        IF v_settings.hybrid_window_seconds = 0 THEN
            v_skip_reason := 'window_disabled';
        ELSIF v_preferred = 0 THEN
            v_skip_reason := 'no_available_mechanic_in_preferred_workshop';
        ELSE
            v_exclusive_until := v_now + make_interval(secs => v_settings.hybrid_window_seconds);
        END IF;
    END IF;
    IF v_type = 'workshop_only' THEN
        v_expires_at := v_now + make_interval(secs => v_settings.workshop_only_wait_seconds);
    ELSIF v_settings.open_wait_seconds IS NOT NULL THEN
        v_expires_at := v_now + make_interval(secs => v_settings.open_wait_seconds);
    END IF;

    INSERT INTO session_requests (
        session_id, customer_id, plan_code, intake_id, preferred_workshop_id, routing_type,
        exclusive_until, expires_at, created_at
    ) VALUES (
        p_session_id, p_customer_id, p_plan_code, p_intake_id, p_preferred_workshop_id, v_type,
        v_exclusive_until, v_expires_at, v_now
    )
    ON CONFLICT (session_id) DO NOTHING
    RETURNING * INTO v_req;

    IF NOT FOUND THEN
        -- The session already has a request: same one again is a no-op, anything else a conflict.
        SELECT * INTO v_req FROM session_requests AS r WHERE r.session_id = p_session_id;
        IF
            v_req.customer_id = p_customer_id
            AND v_req.plan_code = p_plan_code
            AND v_req.routing_type = v_type
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

    INSERT INTO routing_events (request_id, event_type, workshop_id, detail)
    VALUES (
        v_req.id, 'created', v_req.preferred_workshop_id,
        jsonb_build_object(
            'routing_type', v_type,
            'requested_routing_type', p_routing_type,
            'candidate_count', v_total,
            'preferred_candidate_count', v_preferred,
            'hybrid_window_seconds', CASE WHEN v_type = 'hybrid' THEN v_settings.hybrid_window_seconds END,
            'exclusive_until', v_req.exclusive_until,
            'expires_at', v_req.expires_at
        )
    );
    IF v_skip_reason IS NOT NULL THEN
        INSERT INTO routing_events (request_id, event_type, workshop_id, detail)
        VALUES (
            v_req.id, 'window_skipped', v_req.preferred_workshop_id,
            jsonb_build_object(
                'reason', v_skip_reason,
                'hybrid_window_seconds', v_settings.hybrid_window_seconds,
                'preferred_candidate_count', v_preferred
            )
        );
    END IF;
    INSERT INTO routing_events (request_id, event_type, workshop_id, detail)
    SELECT
        v_req.id, 'offered', v_req.preferred_workshop_id,
        jsonb_build_object(
            'audience', a.audience,
            'candidate_count', CASE WHEN a.audience = 'workshop' THEN v_preferred ELSE v_total END,
            'until', CASE WHEN a.audience = 'workshop' THEN v_req.exclusive_until END
        )
    FROM (
        SELECT
            CASE
                WHEN v_type = 'workshop_only' OR v_req.exclusive_until IS NOT NULL THEN 'workshop'
                ELSE 'everyone'
            END AS audience
    ) AS a;

    PERFORM ssr_private.routing_publish(v_req, 'created');
    RETURN v_req;
END
$$;

COMMENT ON FUNCTION create_session_request(uuid, text, uuid, uuid, uuid, text) IS
'Creates a routed session request (validated; SR400/SR404/SR409), with its window, expiry, audit events and notifications.';
