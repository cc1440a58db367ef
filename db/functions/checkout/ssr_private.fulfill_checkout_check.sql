-- ssr_private.fulfill_checkout_check: the rules of ssr_private.fulfill_checkout, checked without
-- writing anything (owner only). fulfill_checkout runs it before its inserts;
-- fulfill_checkout_purchase runs it first in a block that catches its errors, so that a
-- fulfillment the rules refuse becomes fulfillment_rejected while the block stays read-only (a
-- subtransaction that writes costs a transaction id, WAL and pg_subtrans; this one costs none,
-- and the inserts run outside it in the caller's transaction).
-- Returns the normalised routing type (ssr_private.validate_routing_choice), or NULL when the
-- Checkout Session was fulfilled before (a replay: fulfill_checkout returns what exists, whatever
-- changed since, e.g. a workshop suspended or a plan repriced).
-- Errors (SR400/SR404/SR409): stripe_session_id not cs_...; fulfilled before for another customer
-- (ssr_private.fulfill_checkout_existing); unknown customer; bad e-mail; unknown or inactive plan;
-- amount or currency not the plan's (ssr_private.checkout_price_mismatch); slot given; unknown
-- intake; the routing choice refused (ssr_private.validate_routing_choice).
CREATE OR REPLACE FUNCTION ssr_private.fulfill_checkout_check(
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
) RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_plan plans;
    v_mismatch text;
BEGIN
    IF p_stripe_session_id IS NULL OR p_stripe_session_id !~ '^cs_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'stripe_session_id must look like cs_...', COLUMN = 'stripe_session_id';
    END IF;
    IF EXISTS (SELECT 1 FROM sessions AS s WHERE s.stripe_checkout_session_id = p_stripe_session_id) THEN
        -- SR409 when it was fulfilled for another customer.
        PERFORM 1 FROM ssr_private.fulfill_checkout_existing(p_stripe_session_id, p_customer_id);
        RETURN NULL;
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
    RETURN ssr_private.validate_routing_choice(p_preferred_workshop_id, p_routing_type);
END;
$$;

COMMENT ON FUNCTION ssr_private.fulfill_checkout_check(text, text, uuid, uuid, text, integer, text, uuid, uuid, text) IS
'The rules of fulfill_checkout, checked without writing: the normalised routing type, NULL for a replay, or SR400/SR404/SR409.';
