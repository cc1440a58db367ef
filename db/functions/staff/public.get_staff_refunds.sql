-- get_staff_refunds: refunds for support, read-only, acting for an active staff member. p_status:
-- NULL (default) the open ones, failed then pending; or exactly pending, failed or succeeded.
-- Oldest first within a status (the ones waiting longest on top). Per refund: amounts, reason,
-- attempts, the last error, the next attempt, the Stripe ids (Checkout Session, PaymentIntent,
-- refund) and Stripe's status, the customer and request, can_retry (failed before Stripe made a
-- refund: staff_retry_refund hands it back to the refund worker) and the last staff retry (who,
-- when, note).
-- p_limit 1..500 (default 100).
-- Errors, in order: SR400 (status) unknown; SR400 (limit) out of range; those of
-- ssr_private.assert_staff (SR400/SR403).
CREATE OR REPLACE FUNCTION get_staff_refunds(p_staff_id uuid, p_status text DEFAULT NULL, p_limit integer DEFAULT 100)
RETURNS TABLE (
    refund_id uuid,
    status text,
    reason text,
    amount_minor integer,
    currency text,
    attempts integer,
    last_error text,
    next_attempt_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    succeeded_at timestamptz,
    stripe_checkout_session_id text,
    stripe_payment_intent_id text,
    stripe_refund_id text,
    stripe_status text,
    customer_email text,
    session_request_id uuid,
    can_retry boolean,
    retried_by text,
    retried_at timestamptz,
    retry_note text
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_status IS NOT NULL AND p_status NOT IN ('pending', 'failed', 'succeeded') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('status must be pending, failed or succeeded (got %L)', p_status),
            COLUMN = 'status';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be from 1 to 500 (got %s)', p_limit), COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');

    RETURN QUERY
    SELECT
        rf.id,
        rf.status,
        rf.reason,
        rf.amount_minor,
        rf.currency,
        rf.attempts,
        rf.last_error,
        CASE WHEN rf.status = 'pending' THEN rf.next_attempt_at END,
        rf.created_at,
        rf.updated_at,
        rf.succeeded_at,
        rf.stripe_checkout_session_id,
        rf.stripe_payment_intent_id,
        rf.stripe_refund_id,
        rf.stripe_status,
        cp.customer_email,
        rf.session_request_id,
        rf.status = 'failed' AND rf.stripe_refund_id IS NULL,
        la.name,
        la.acted_at,
        la.details ->> 'note'
    FROM refunds AS rf
    INNER JOIN checkout_purchases AS cp ON rf.purchase_id = cp.id
    LEFT JOIN LATERAL (
        SELECT sm.name, sa.acted_at, sa.details
        FROM ssr_private.staff_actions AS sa
        INNER JOIN staff_members AS sm ON sa.staff_id = sm.id
        WHERE sa.action = 'refund.retry' AND sa.subject = rf.id::text
        ORDER BY sa.acted_at DESC, sa.id DESC
        LIMIT 1
    ) AS la ON TRUE
    WHERE (p_status IS NULL AND rf.status IN ('pending', 'failed')) OR rf.status = p_status
    ORDER BY rf.status = 'failed' DESC, rf.created_at, rf.id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_staff_refunds(uuid, text, integer) IS
'Staff (support): refunds (open: failed then pending; or one status) with attempts, errors, Stripe ids and '
'whether staff may retry them.';
