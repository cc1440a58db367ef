-- Record the Stripe Checkout Session created for a pending purchase of the customer the
-- transaction acts for. Idempotent for the same cs_ id (Stripe replays the same session
-- for the same idempotency key). Errors, in this order:
--   SR400 stripe_checkout_session_id not cs_...;
--   SR403 customer_id: no verified customer identity in this transaction;
--   SR404 purchase_id unknown, or a purchase of another customer (not told apart);
--   SR409 purchase_id already has another Checkout Session or is no longer pending.
-- SECURITY DEFINER (search_path pinned): the app's login has no table privileges.
CREATE OR REPLACE FUNCTION attach_checkout_session(
    p_purchase_id uuid,
    p_stripe_checkout_session_id text
) RETURNS checkout_purchases
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_row checkout_purchases;
    v_customer uuid := ssr_private.current_customer_id();
BEGIN
    IF p_stripe_checkout_session_id IS NULL OR p_stripe_checkout_session_id !~ '^cs_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'stripe_checkout_session_id must look like cs_...', COLUMN = 'stripe_checkout_session_id';
    END IF;
    IF v_customer IS NULL THEN
        PERFORM ssr_private.assert_acting_for('customer', NULL);
    END IF;
    SELECT cp.* INTO v_row
    FROM checkout_purchases AS cp
    WHERE cp.id = p_purchase_id AND cp.customer_id = v_customer
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = 'purchase_id: unknown purchase', COLUMN = 'purchase_id';
    END IF;
    IF v_row.stripe_checkout_session_id = p_stripe_checkout_session_id THEN
        RETURN v_row;
    END IF;
    IF v_row.stripe_checkout_session_id IS NOT NULL OR v_row.status <> 'pending' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format('purchase %s is %s with checkout session %s', v_row.id, v_row.status,
                coalesce(v_row.stripe_checkout_session_id, 'none')),
            COLUMN = 'purchase_id';
    END IF;
    UPDATE checkout_purchases AS cp
    SET stripe_checkout_session_id = p_stripe_checkout_session_id, updated_at = now()
    WHERE cp.id = p_purchase_id
    RETURNING cp.* INTO v_row;
    RETURN v_row;
END;
$$;

COMMENT ON FUNCTION attach_checkout_session(uuid, text) IS
'Store the cs_ id of the Checkout Session created for a pending purchase (idempotent).';
