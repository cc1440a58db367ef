-- refund_apply_stripe_status: records what Stripe says of a refund (the worker's answer,
-- a refund webhook, reconciliation), in the caller's transaction. Inputs: our refund id,
-- the Stripe refund id (re_...) and its status. Stripe's succeeded -> succeeded (and the
-- session, if any, becomes refunded); failed / canceled -> failed (Stripe's final word,
-- even after a success: the money came back to us, the session is cancelled again and
-- an operator must act); pending / requires_action -> pending (a webhook will tell the
-- end). Never backwards: a refund succeeded is not made pending again, one Stripe failed
-- or canceled stays failed (answers re-fetched concurrently may commit out of order).
-- Errors, in order: SR400 refund_id missing; SR400 stripe_status not a Stripe refund
-- status; SR404 unknown refund; SR409 the refund is bound to another Stripe refund.
CREATE OR REPLACE FUNCTION ssr_private.refund_apply_stripe_status(
    p_refund_id uuid,
    p_stripe_refund_id text,
    p_stripe_status text
) RETURNS refunds
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_refund refunds;
    v_status text;
BEGIN
    IF p_refund_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'refund_id is required', COLUMN = 'refund_id';
    END IF;
    IF p_stripe_status IS NULL
        OR p_stripe_status NOT IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = format('unknown refund status %L', p_stripe_status),
            COLUMN = 'stripe_status';
    END IF;
    SELECT rf.* INTO v_refund FROM refunds AS rf WHERE rf.id = p_refund_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('refund %s: no such refund', p_refund_id),
            COLUMN = 'refund_id';
    END IF;
    IF v_refund.stripe_refund_id IS NOT NULL AND v_refund.stripe_refund_id IS DISTINCT FROM p_stripe_refund_id THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format('refund %s is Stripe refund %s, not %s', p_refund_id, v_refund.stripe_refund_id,
                             p_stripe_refund_id),
            COLUMN = 'stripe_refund_id';
    END IF;
    IF v_refund.stripe_status IN ('failed', 'canceled')
        OR (v_refund.status = 'succeeded' AND p_stripe_status NOT IN ('failed', 'canceled')) THEN
        RETURN v_refund;
    END IF;
    v_status := CASE
        WHEN p_stripe_status = 'succeeded' THEN 'succeeded'
        WHEN p_stripe_status IN ('failed', 'canceled') THEN 'failed'
        ELSE 'pending'
    END;
    UPDATE refunds AS rf
    SET
        stripe_refund_id = p_stripe_refund_id,
        stripe_status = p_stripe_status,
        status = v_status,
        succeeded_at = CASE WHEN v_status = 'succeeded' THEN coalesce(rf.succeeded_at, now()) END,
        last_error = CASE WHEN v_status = 'failed' THEN 'Stripe refund ' || p_stripe_status ELSE rf.last_error END,
        updated_at = now()
    WHERE rf.id = v_refund.id
    RETURNING rf.* INTO v_refund;
    IF v_status = 'succeeded' AND v_refund.session_id IS NOT NULL THEN
        UPDATE sessions AS s SET status = 'refunded'
        WHERE s.id = v_refund.session_id AND s.status <> 'refunded';
    ELSIF v_status = 'failed' AND v_refund.session_id IS NOT NULL THEN
        UPDATE sessions AS s SET status = 'cancelled'
        WHERE s.id = v_refund.session_id AND s.status = 'refunded';
    END IF;
    RETURN v_refund;
END
$$;

COMMENT ON FUNCTION ssr_private.refund_apply_stripe_status(uuid, text, text) IS
'Records Stripe''s status of a refund (succeeded: session refunded; failed/canceled: failed, final); never backwards.';
