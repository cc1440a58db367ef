-- Start a purchase for the authenticated customer: validates the customer, the plan
-- (exists and active), the intake (the customer's own) and the routing choice
-- (ssr_private.validate_routing_choice), copies price and currency from the plan, and
-- inserts a pending checkout_purchases row. Errors (COLUMN names the field), in this
-- order, and then nothing is written:
--   SR400 customer_id missing;
--   SR403 customer_id: the transaction does not verifiably act for that customer
--         (ssr_private.assert_acting_for: app.customer_id set by the app login, or the sub
--         of request.jwt.claims for the role customer; no identity is refused too);
--   SR404 unknown customer; SR400/SR404 plan; SR400/SR404 routing_type / workshop_id;
--   SR409 workshop_id: workshop_only and nobody of the workshop in working hours now
--         (ssr_private.workshop_hours_check: fail closed before payment);
--   SR404 intake_id not the customer's.
-- SECURITY DEFINER (search_path pinned): the app's login has no table privileges.
CREATE OR REPLACE FUNCTION create_checkout_purchase(
    p_customer_id uuid,
    p_plan_code text,
    p_preferred_workshop_id uuid,
    p_routing_type text,
    p_intake_id uuid DEFAULT NULL
) RETURNS checkout_purchases
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_email text;
    v_plan plans;
    v_routing text;
    v_row checkout_purchases;
BEGIN
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_id is required', COLUMN = 'customer_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('customer', p_customer_id);
    SELECT c.email INTO v_email FROM customers AS c WHERE c.id = p_customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = 'customer_id: unknown customer', COLUMN = 'customer_id';
    END IF;

    IF p_plan_code IS NULL OR btrim(p_plan_code) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'plan is required', COLUMN = 'plan';
    END IF;
    SELECT pl.* INTO v_plan FROM plans AS pl WHERE pl.code = p_plan_code;
    IF NOT FOUND OR NOT v_plan.is_active THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404',
            MESSAGE = format('plan: unknown or inactive plan %L', p_plan_code), COLUMN = 'plan';
    END IF;

    v_routing := ssr_private.validate_routing_choice(p_preferred_workshop_id, p_routing_type);
    IF v_routing = 'workshop_only' THEN
        PERFORM ssr_private.workshop_hours_check(p_preferred_workshop_id);  -- fail closed: nobody in hours
    END IF;

    IF p_intake_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM intakes AS i WHERE i.id = p_intake_id AND i.customer_id = p_customer_id
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = 'intake_id: unknown intake', COLUMN = 'intake_id';
    END IF;

    INSERT INTO checkout_purchases (
        customer_id, customer_email, plan_code, amount_minor, currency,
        preferred_workshop_id, routing_type, intake_id
    ) VALUES (
        p_customer_id, v_email, v_plan.code, v_plan.price_minor, v_plan.currency,
        p_preferred_workshop_id, v_routing, p_intake_id
    )
    RETURNING * INTO v_row;
    RETURN v_row;
END;
$$;

COMMENT ON FUNCTION create_checkout_purchase(uuid, text, uuid, text, uuid) IS
'Validate plan, workshop, routing type and intake, then insert a pending purchase (price from plans).';
