-- get_customer_bookings: a customer's bookings ("My bookings"), newest first: every purchase that
-- went to Stripe Checkout, with where it stands, acting for the customer. Never changes anything.
-- state: unpaid (Checkout not completed, or it expired unpaid) | failed (paid but not arranged:
-- refund owed) | searching (looking for a mechanic) | assigned (a mechanic accepted; the session
-- is waiting) | live | completed | no_show | expired (nobody took it in time: refund owed) |
-- cancelled. With the plan, the strategy and the preferred workshop, the Checkout Session (the
-- success page's id), the request and the session, the accepting mechanic and serving workshop,
-- the refund owed if any (status pending | succeeded | failed, amount, when made), the review
-- given, and what the customer may do now: can_cancel (the request is still pending: nobody
-- accepted it) and can_review (completed, not reviewed yet).
-- p_limit 1..100 (default 50).
-- Errors, in order: SR400 (customer_id) missing; SR400 (limit) out of range; SR403 (customer_id)
-- the transaction does not act for that customer (ssr_private.assert_acting_for).
CREATE OR REPLACE FUNCTION get_customer_bookings(p_customer_id uuid, p_limit integer DEFAULT 50)
RETURNS TABLE (
    purchase_id uuid,
    created_at timestamptz,
    plan_code text,
    plan_name text,
    amount_minor integer,
    currency text,
    routing_type text,
    preferred_workshop_name text,
    checkout_session_id text,
    state text,
    request_id uuid,
    request_status text,
    session_id uuid,
    session_status text,
    mechanic_name text,
    workshop_name text,
    accepted_at timestamptz,
    started_at timestamptz,
    ended_at timestamptz,
    refund_status text,
    refund_amount_minor integer,
    refund_currency text,
    refunded_at timestamptz,
    review_rating smallint,
    review_comment text,
    can_cancel boolean,
    can_review boolean
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_id is required', COLUMN = 'customer_id';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be from 1 to 100 (got %s)', p_limit), COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_acting_for('customer', p_customer_id);

    RETURN QUERY
    SELECT
        cp.id,
        cp.created_at,
        cp.plan_code,
        pl.name,
        cp.amount_minor,
        cp.currency,
        cp.routing_type,
        pw.name,
        cp.stripe_checkout_session_id,
        CASE
            WHEN cp.status = 'failed' THEN 'failed'
            WHEN cp.status IN ('pending', 'expired') OR sr.id IS NULL THEN 'unpaid'
            WHEN sr.status = 'pending' THEN 'searching'
            WHEN sr.status = 'accepted' AND s.status = 'waiting' THEN 'assigned'
            WHEN sr.status = 'accepted' THEN s.status
            ELSE sr.status
        END,
        sr.id,
        sr.status,
        s.id,
        s.status,
        m.name,
        sw.name,
        sr.accepted_at,
        s.started_at,
        s.ended_at,
        rf.status,
        rf.amount_minor,
        rf.currency,
        rf.succeeded_at,
        rv.rating,
        rv.comment,
        coalesce(sr.status = 'pending', FALSE),
        coalesce(s.status = 'completed' AND rv.id IS NULL, FALSE)
    FROM checkout_purchases AS cp
    INNER JOIN plans AS pl ON cp.plan_code = pl.code
    LEFT JOIN organizations AS pw ON cp.preferred_workshop_id = pw.id
    LEFT JOIN session_requests AS sr ON cp.session_request_id = sr.id
    LEFT JOIN sessions AS s ON cp.session_id = s.id
    LEFT JOIN mechanics AS m ON s.mechanic_id = m.id
    LEFT JOIN organizations AS sw ON s.workshop_id = sw.id
    LEFT JOIN refunds AS rf ON cp.id = rf.purchase_id
    LEFT JOIN reviews AS rv ON s.id = rv.session_id
    WHERE cp.customer_id = p_customer_id AND cp.stripe_checkout_session_id IS NOT NULL
    ORDER BY cp.created_at DESC, cp.id DESC
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_customer_bookings(uuid, integer) IS
'A customer''s bookings, newest first: state, request, session, mechanic, refund, review, and whether they may '
'cancel or review now; acting for the customer. SR400/SR403 otherwise.';
