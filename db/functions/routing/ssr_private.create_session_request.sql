-- create_session_request: records a paid request for a mechanic with its routing choice.
-- Validates its inputs (below), then ssr_private.session_request_insert decides the hybrid
-- window and the expiry, writes the audit events (created, window_skipped, offered) and
-- announces it on the outbox / pg_notify channels.
--   * routing type and workshop are checked by validate_routing_choice (SR400 / SR404);
--   * unknown customer, plan (or inactive plan), session or intake: SR404 naming the field;
--     a session or intake of another customer, or a session of another plan: SR400;
--   * hybrid: exclusive window of routing_settings.hybrid_window_seconds for the preferred
--     workshop, skipped (event window_skipped) when it has nobody available right now or
--     everyone available there is at their capacity;
--   * expires_at: workshop_only after workshop_only_wait_seconds, others after
--     open_wait_seconds (NULL: never).
-- Idempotent per session: calling it again for a session that already has the same
-- request returns that request unchanged; a different request for it raises SR409.
CREATE OR REPLACE FUNCTION ssr_private.create_session_request(
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
    v_type text;
    v_session record;
    v_intake_customer uuid;
    v_plan_active boolean;
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

    RETURN ssr_private.session_request_insert(
        p_customer_id, p_plan_code, p_session_id, p_intake_id, p_preferred_workshop_id, v_type, p_routing_type
    );
END
$$;

COMMENT ON FUNCTION ssr_private.create_session_request(uuid, text, uuid, uuid, uuid, text) IS
'Creates a routed session request (validated; SR400/SR404/SR409), with its window, expiry, audit events and notifications.';
