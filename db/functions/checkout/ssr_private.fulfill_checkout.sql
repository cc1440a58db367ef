-- ssr_private.fulfill_checkout: fulfils a paid Checkout Session (owner only; called by
-- fulfill_checkout_purchase, which settles a purchase with it). In the caller's
-- transaction, create the session and
-- its routed session request (validated here, written by ssr_private.session_request_insert,
-- the write half of create_session_request), exactly once per Stripe
-- session id. The unique key sessions.stripe_checkout_session_id and
-- INSERT ... ON CONFLICT DO NOTHING make concurrent or replayed calls wait for the
-- first one and then return what it created (created = FALSE), never a second row.
-- Errors (SR400/SR404, each checked here only): stripe_session_id not cs_...; unknown
-- customer; bad e-mail; unknown or inactive plan; amount or currency not the plan's
-- (ssr_private.checkout_price_mismatch, the price rule fulfill_checkout_purchase also
-- applies to the purchase); slot given; unknown intake; the routing choice refused
-- (ssr_private.validate_routing_choice).
CREATE OR REPLACE FUNCTION ssr_private.fulfill_checkout(
    p_plan_code text,
    p_stripe_session_id text,
    p_intake_id uuid,
    p_customer_id uuid,
    p_customer_email text,
    p_amount_total integer,
    p_currency text,
    p_slot_id uuid DEFAULT NULL,
    p_preferred_workshop_id uuid DEFAULT NULL,
    p_routing_type text DEFAULT 'broadcast'
) RETURNS TABLE (
    session_id uuid,
    session_request_id uuid,
    created boolean,
    routing_type text,
    customer_id uuid
)
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_plan plans;
    v_mismatch text;
    v_routing text;
    v_session_id uuid;
    v_request session_requests;
BEGIN
    IF p_stripe_session_id IS NULL OR p_stripe_session_id !~ '^cs_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'stripe_session_id must look like cs_...', COLUMN = 'stripe_session_id';
    END IF;
    -- A replay returns what exists, whatever changed since (a workshop suspended, a plan repriced).
    IF EXISTS (SELECT 1 FROM sessions AS s WHERE s.stripe_checkout_session_id = p_stripe_session_id) THEN
        RETURN QUERY SELECT * FROM ssr_private.fulfill_checkout_existing(p_stripe_session_id, p_customer_id);
        RETURN;
    END IF;
    IF p_customer_id IS NULL OR NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.id = p_customer_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = 'customer_id: unknown customer', COLUMN = 'customer_id';
    END IF;
    IF p_customer_email IS NOT NULL AND p_customer_email !~ '^[^@\s]+@[^@\s]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_email is not an e-mail address',
            COLUMN = 'customer_email';
    END IF;
    SELECT pl.* INTO v_plan FROM plans AS pl WHERE pl.code = p_plan_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404',
            MESSAGE = format('plan: unknown plan %L', p_plan_code), COLUMN = 'plan';
    END IF;
    IF NOT v_plan.is_active THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404',
            MESSAGE = format('plan: plan %L is not active', p_plan_code), COLUMN = 'plan';
    END IF;
    v_mismatch := ssr_private.checkout_price_mismatch(v_plan, p_amount_total, p_currency);
    IF v_mismatch = 'amount_total' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = format('amount_total %s does not match the plan price %s', p_amount_total, v_plan.price_minor),
            COLUMN = 'amount_total';
    END IF;
    IF v_mismatch = 'currency' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = format('currency %L does not match the plan currency %L', p_currency, v_plan.currency),
            COLUMN = 'currency';
    END IF;
    IF p_slot_id IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'slot_id: scheduled slots are not supported, sessions start on demand', COLUMN = 'slot_id';
    END IF;
    IF p_intake_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM intakes AS i WHERE i.id = p_intake_id AND i.customer_id = p_customer_id
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = 'intake_id: unknown intake', COLUMN = 'intake_id';
    END IF;
    v_routing := ssr_private.validate_routing_choice(p_preferred_workshop_id, p_routing_type);

    INSERT INTO sessions AS s (
        customer_id, plan_code, intake_id, stripe_checkout_session_id,
        amount_total_minor, currency, preferred_workshop_id
    ) VALUES (
        p_customer_id, v_plan.code, p_intake_id, p_stripe_session_id,
        p_amount_total, p_currency, p_preferred_workshop_id
    )
    ON CONFLICT (stripe_checkout_session_id) DO NOTHING
    RETURNING s.id INTO v_session_id;

    IF v_session_id IS NOT NULL THEN
        -- Inputs validated above (customer, active plan, intake, routing choice); the session is new.
        v_request := ssr_private.session_request_insert(
            p_customer_id, v_plan.code, v_session_id, p_intake_id, p_preferred_workshop_id, v_routing, p_routing_type
        );
        RETURN QUERY SELECT v_session_id, v_request.id, TRUE, v_request.routing_type, p_customer_id;
        RETURN;
    END IF;

    -- Lost the race: the row is committed (ON CONFLICT waited for its transaction).
    RETURN QUERY SELECT * FROM ssr_private.fulfill_checkout_existing(p_stripe_session_id, p_customer_id);
END;
$$;

COMMENT ON FUNCTION ssr_private.fulfill_checkout(text, text, uuid, uuid, text, integer, text, uuid, uuid, text) IS
'Create the session and its routed request for a paid Checkout Session, exactly once per cs_ id.';
