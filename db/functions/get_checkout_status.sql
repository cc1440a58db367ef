-- What the database knows about a Checkout Session (for the success page): the
-- purchase, its status and what fulfillment created. Never changes anything.
CREATE OR REPLACE FUNCTION get_checkout_status(p_stripe_checkout_session_id text)
RETURNS TABLE (
    purchase_id uuid,
    purchase_status text,
    failure_reason text,
    plan_code text,
    session_id uuid,
    session_request_id uuid,
    request_status text
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    SELECT
        cp.id,
        cp.status,
        cp.failure_reason,
        cp.plan_code,
        cp.session_id,
        cp.session_request_id,
        sr.status
    FROM checkout_purchases AS cp
    LEFT JOIN session_requests AS sr ON cp.session_request_id = sr.id
    WHERE cp.stripe_checkout_session_id = p_stripe_checkout_session_id;
$$;

COMMENT ON FUNCTION get_checkout_status(text) IS
'Purchase status and fulfillment result for a cs_ id (read only, for the success page).';
