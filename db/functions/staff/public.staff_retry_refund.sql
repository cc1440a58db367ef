-- staff_retry_refund: support hands a failed refund back to the refund worker. The refund becomes
-- pending again, due now (next_attempt_at = now()), its attempts and last error kept: the worker's
-- next claim (ssr_private.refund_claim_due) calls Stripe with the same idempotency key, the
-- refund's id. Nothing here calls Stripe. Only a refund that failed before Stripe made one
-- (stripe_refund_id NULL: Stripe refused the call) can be retried; a refund Stripe made and that
-- then failed at Stripe would only get the same refund back. Recorded in the audit
-- (ssr_private.staff_action_record: refund.retry, the refund id, the note and the error retried),
-- in the same transaction.
-- Errors, in order: SR400 (refund_id) missing; SR400 (note) longer than 500 characters; those of
-- ssr_private.assert_staff (SR400/SR403); SR404 (refund_id) unknown refund; SR409 (refund_id) not
-- failed (pending: the worker has it; succeeded: made); SR409 (refund_id) made at Stripe and
-- failed there (refund it from the Stripe Dashboard).
CREATE OR REPLACE FUNCTION staff_retry_refund(p_staff_id uuid, p_refund_id uuid, p_note text DEFAULT NULL)
RETURNS TABLE (refund_id uuid, status text, next_attempt_at timestamptz, attempts integer, action_id bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_refund refunds;
    v_action bigint;
BEGIN
    IF p_refund_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'refund_id is required', COLUMN = 'refund_id';
    END IF;
    IF length(p_note) > 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('note is at most 500 characters (got %s)', length(p_note)),
            COLUMN = 'note';
    END IF;
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');

    SELECT rf.* INTO v_refund FROM refunds AS rf WHERE rf.id = p_refund_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('refund %s: no such refund', p_refund_id), COLUMN = 'refund_id';
    END IF;
    IF v_refund.status <> 'failed' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('refund %s is %s: only a failed refund can be retried', p_refund_id, v_refund.status),
            COLUMN = 'refund_id';
    END IF;
    IF v_refund.stripe_refund_id IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format(
                'refund %s was made at Stripe as %s and failed there (%s): a retry would get the same refund back; '
                'refund the payment from the Stripe Dashboard',
                p_refund_id, v_refund.stripe_refund_id, coalesce(v_refund.stripe_status, 'failed')
            ),
            COLUMN = 'refund_id';
    END IF;

    UPDATE refunds AS rf
    SET status = 'pending', next_attempt_at = now(), updated_at = now()
    WHERE rf.id = p_refund_id
    RETURNING rf.* INTO v_refund;
    v_action := ssr_private.staff_action_record(
        p_staff_id, 'refund.retry', p_refund_id::text,
        jsonb_build_object(
            'note', nullif(btrim(p_note), ''), 'last_error', v_refund.last_error, 'attempts', v_refund.attempts
        )
    );
    RETURN QUERY SELECT v_refund.id, v_refund.status, v_refund.next_attempt_at, v_refund.attempts, v_action;
END
$$;

COMMENT ON FUNCTION staff_retry_refund(uuid, uuid, text) IS
'Staff (support): a failed refund (Stripe refused the call) is pending and due again, for the refund worker; '
'audited. SR400/SR403/SR404/SR409 otherwise.';
