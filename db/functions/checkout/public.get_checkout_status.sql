-- What the database knows about a Checkout Session (for the success page): the
-- purchase, its status, what fulfillment created and the refund it is owed, if any
-- (refund_status pending, succeeded or failed, as the refund worker and Stripe's refund
-- webhooks left it; NULL when nothing is owed). Never changes anything.
-- (DROP first: the columns of the result changed, which CREATE OR REPLACE cannot do.)
DROP FUNCTION IF EXISTS get_checkout_status(text);

CREATE OR REPLACE FUNCTION get_checkout_status(p_stripe_checkout_session_id text)
RETURNS TABLE (
    purchase_id uuid,
    purchase_status text,
    failure_reason text,
    plan_code text,
    session_id uuid,
    session_request_id uuid,
    request_status text,
    refund_status text,
    refund_amount_minor integer,
    refund_currency text,
    refunded_at timestamptz
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
        sr.status,
        rf.status,
        rf.amount_minor,
        rf.currency,
        rf.succeeded_at
    FROM checkout_purchases AS cp
    LEFT JOIN session_requests AS sr ON cp.session_request_id = sr.id
    LEFT JOIN refunds AS rf ON cp.id = rf.purchase_id
    WHERE cp.stripe_checkout_session_id = p_stripe_checkout_session_id;
$$;

COMMENT ON FUNCTION get_checkout_status(text) IS
'Purchase status, fulfillment result and the refund owed, if any, for a cs_ id (read only, for the success page).';
