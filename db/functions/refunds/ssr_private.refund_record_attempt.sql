-- refund_record_attempt: the refund worker records one call to Stripe for a refund it
-- claimed (refund_claim_due), in the claiming transaction. Inputs: our refund id; the
-- PaymentIntent refunded (kept on the row); then either the Stripe refund id and status
-- (the call succeeded: refund_apply_stripe_status) or an error message with p_retry:
-- TRUE (a network error, 429 or 5xx: tried again after a capped exponential backoff,
-- 30 s doubling per attempt, at most 1 hour) or FALSE (Stripe refused it: failed, for
-- an operator). attempts counts every recorded call.
-- Errors, in order: SR400 refund_id missing; SR400 neither a refund nor an error given;
-- SR404 unknown refund; those of refund_apply_stripe_status.
CREATE OR REPLACE FUNCTION ssr_private.refund_record_attempt(
    p_refund_id uuid,
    p_payment_intent_id text,
    p_stripe_refund_id text,
    p_stripe_status text,
    p_error text DEFAULT NULL,
    p_retry boolean DEFAULT TRUE
) RETURNS refunds
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_refund refunds;
BEGIN
    IF p_refund_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'refund_id is required', COLUMN = 'refund_id';
    END IF;
    IF p_stripe_refund_id IS NULL AND p_error IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'give the Stripe refund or the error',
            COLUMN = 'stripe_refund_id';
    END IF;
    UPDATE refunds AS rf
    SET
        attempts = rf.attempts + 1,
        stripe_payment_intent_id = coalesce(p_payment_intent_id, rf.stripe_payment_intent_id),
        updated_at = now()
    WHERE rf.id = p_refund_id
    RETURNING rf.* INTO v_refund;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('refund %s: no such refund', p_refund_id),
            COLUMN = 'refund_id';
    END IF;
    IF p_stripe_refund_id IS NOT NULL THEN
        RETURN ssr_private.refund_apply_stripe_status(p_refund_id, p_stripe_refund_id, p_stripe_status);
    END IF;
    UPDATE refunds AS rf
    SET
        last_error = left(p_error, 2000),
        status = CASE WHEN coalesce(p_retry, TRUE) THEN rf.status ELSE 'failed' END,
        next_attempt_at = now() + least(interval '30 seconds' * power(2, least(rf.attempts - 1, 20)),
                                        interval '1 hour')
    WHERE rf.id = p_refund_id
    RETURNING rf.* INTO v_refund;
    RETURN v_refund;
END
$$;

COMMENT ON FUNCTION ssr_private.refund_record_attempt(uuid, text, text, text, text, boolean) IS
'The refund worker records a call to Stripe: the refund made, or an error retried with capped backoff or failed.';
