-- ssr_private.fulfill_checkout: fulfils a paid Checkout Session (owner only; called by
-- fulfill_checkout_purchase, which settles a purchase with it). In the caller's
-- transaction, create the session and
-- its routed session request (validated here, written by ssr_private.session_request_insert,
-- the write half of create_session_request), exactly once per Stripe
-- session id. The unique key sessions.stripe_checkout_session_id and
-- INSERT ... ON CONFLICT DO NOTHING make concurrent or replayed calls wait for the
-- first one and then return what it created (created = FALSE), never a second row.
-- Errors (SR400/SR404/SR409, each checked by ssr_private.fulfill_checkout_check, which
-- fulfill_checkout_purchase runs first without writing): stripe_session_id not cs_...;
-- fulfilled before for another customer; unknown customer; bad e-mail; unknown or inactive
-- plan; amount or currency not the plan's (ssr_private.checkout_price_mismatch, the price rule
-- fulfill_checkout_purchase also applies to the purchase); slot given; unknown intake; the
-- routing choice refused (ssr_private.validate_routing_choice).
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
    v_routing text;
    v_session_id uuid;
    v_request session_requests;
BEGIN
    -- The rules (ssr_private.fulfill_checkout_check); NULL: fulfilled before, a replay returns
    -- what exists, whatever changed since (a workshop suspended, a plan repriced).
    v_routing := ssr_private.fulfill_checkout_check(
        p_plan_code, p_stripe_session_id, p_intake_id, p_customer_id, p_customer_email,
        p_amount_total, p_currency, p_slot_id, p_preferred_workshop_id, p_routing_type
    );
    IF v_routing IS NULL THEN
        RETURN QUERY SELECT * FROM ssr_private.fulfill_checkout_existing(p_stripe_session_id, p_customer_id);
        RETURN;
    END IF;
    v_plan.code := p_plan_code;

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
