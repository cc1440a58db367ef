-- ssr_private.checkout_purchase_for_session: our purchase for a Checkout Session re-fetched from
-- Stripe, locked FOR UPDATE for the caller's transaction. Input: the session id and its
-- client_reference_id (our purchase id). A purchase whose session was never attached
-- (the app stopped between Stripe's answer and attach_checkout_session) adopts it.
-- Returns NULL fields when the client_reference_id is not a purchase of ours. No error.
CREATE OR REPLACE FUNCTION ssr_private.checkout_purchase_for_session(
    p_checkout_session_id text,
    p_client_reference_id text
) RETURNS checkout_purchases
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_purchase checkout_purchases;
BEGIN
    IF p_client_reference_id IS NULL
        OR p_client_reference_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN v_purchase;
    END IF;
    SELECT cp.* INTO v_purchase FROM checkout_purchases AS cp
    WHERE cp.id = p_client_reference_id::uuid
    FOR UPDATE;
    IF FOUND AND v_purchase.stripe_checkout_session_id IS NULL
        AND p_checkout_session_id ~ '^cs_[A-Za-z0-9_]+$' THEN
        UPDATE checkout_purchases AS cp
        SET stripe_checkout_session_id = p_checkout_session_id, updated_at = now()
        WHERE cp.id = v_purchase.id
        RETURNING cp.* INTO v_purchase;
    END IF;
    RETURN v_purchase;
END
$$;

COMMENT ON FUNCTION ssr_private.checkout_purchase_for_session(text, text) IS
'Our purchase (locked) for a re-fetched Checkout Session, adopting the session if it was never attached; NULL if not ours.';
