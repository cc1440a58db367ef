-- What fulfill_checkout returns for a Checkout Session that was already fulfilled:
-- the existing session and request, created = FALSE; SR409 if it belongs to another customer.
CREATE OR REPLACE FUNCTION ssr_private.fulfill_checkout_existing(p_stripe_session_id text, p_customer_id uuid)
RETURNS TABLE (
    session_id uuid,
    session_request_id uuid,
    created boolean,
    routing_type text,
    customer_id uuid
)
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_session_id uuid;
    v_customer uuid;
BEGIN
    SELECT s.id, s.customer_id INTO v_session_id, v_customer
    FROM sessions AS s WHERE s.stripe_checkout_session_id = p_stripe_session_id;
    IF v_customer IS DISTINCT FROM p_customer_id THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format('checkout session %s was fulfilled for another customer', p_stripe_session_id),
            COLUMN = 'stripe_session_id';
    END IF;
    RETURN QUERY
    SELECT v_session_id, r.id, FALSE, r.routing_type, p_customer_id
    FROM (SELECT 1) AS one
    LEFT JOIN session_requests AS r ON r.session_id = v_session_id;
END;
$$;

COMMENT ON FUNCTION ssr_private.fulfill_checkout_existing(text, uuid) IS
'The session and request already created for a Checkout Session (fulfill_checkout replays).';
