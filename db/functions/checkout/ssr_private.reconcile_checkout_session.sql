-- reconcile_checkout_session: one Checkout Session listed (or retrieved) from Stripe by a
-- reconciliation run, in its own transaction: the same idempotent procedure as the
-- webhook (fulfill_checkout_purchase). A session in order (already fulfilled, not ours,
-- not paid) is only counted; anything else (fulfilled now: its webhook never came;
-- rejected; amount mismatch; another purchase's session; purchase no longer pending) is
-- recorded in reconciliation_actions. Returns the outcome.
-- Errors, in order: SR400 run_id missing; SR404 unknown run; SR409 run finished.
CREATE OR REPLACE FUNCTION ssr_private.reconcile_checkout_session(
    p_run_id bigint,
    p_checkout_session_id text,
    p_client_reference_id text,
    p_payment_status text,
    p_amount_total integer,
    p_currency text
) RETURNS text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_run reconciliation_runs;
    v_result record;
BEGIN
    IF p_run_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'run_id is required', COLUMN = 'run_id';
    END IF;
    SELECT r.* INTO v_run FROM reconciliation_runs AS r WHERE r.id = p_run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('run %s: no such run', p_run_id), COLUMN = 'run_id';
    END IF;
    IF v_run.finished_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409', MESSAGE = format('run %s is finished', p_run_id), COLUMN = 'run_id';
    END IF;

    SELECT f.* INTO v_result
    FROM fulfill_checkout_purchase(
        p_checkout_session_id, p_client_reference_id, p_payment_status, p_amount_total, p_currency
    ) AS f;

    UPDATE reconciliation_runs AS r
    SET
        sessions_seen = r.sessions_seen + 1,
        fulfilled = r.fulfilled + (v_result.outcome = 'fulfilled')::integer,
        problems = r.problems + (
            v_result.outcome NOT IN ('fulfilled', 'already_fulfilled', 'unknown_purchase', 'awaiting_payment')
        )::integer
    WHERE r.id = p_run_id;
    IF v_result.outcome NOT IN ('already_fulfilled', 'unknown_purchase', 'awaiting_payment') THEN
        INSERT INTO reconciliation_actions (run_id, stripe_checkout_session_id, purchase_id, action, detail)
        VALUES (
            p_run_id, p_checkout_session_id, v_result.purchase_id, v_result.outcome,
            CASE WHEN v_result.outcome = 'fulfilled' THEN 'paid but not fulfilled: its webhook never arrived' END
        );
    END IF;
    RETURN v_result.outcome;
END
$$;

COMMENT ON FUNCTION ssr_private.reconcile_checkout_session(bigint, text, text, text, integer, text) IS
'Reconciliation of one Checkout Session from Stripe through fulfill_checkout_purchase; records what it did.';
