-- refund_claim_due: the refund worker's claim. Returns one refund that is due (pending,
-- never created at Stripe, next_attempt_at passed), locked FOR UPDATE SKIP LOCKED for
-- the caller's transaction, or no row. The worker keeps the transaction open while it
-- calls Stripe and records the result with refund_record_attempt before committing, so
-- concurrent workers never work on the same refund; if the worker dies before its
-- commit, the lock goes with its connection and the next claim retries with the same
-- idempotency key (the row id), which Stripe answers with the refund it already made.
CREATE OR REPLACE FUNCTION ssr_private.refund_claim_due()
RETURNS SETOF refunds
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    SELECT rf.*
    FROM refunds AS rf
    WHERE rf.status = 'pending' AND rf.stripe_refund_id IS NULL AND rf.next_attempt_at <= now()
    ORDER BY rf.next_attempt_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED;
$$;

COMMENT ON FUNCTION ssr_private.refund_claim_due() IS
'Claims one due refund (FOR UPDATE SKIP LOCKED, for the caller''s transaction); no row when none is due.';
