-- fulfill_checkout_purchase: the one idempotent fulfillment procedure for a Checkout
-- Session re-fetched from Stripe, used by the webhook (handle_checkout_event), the
-- success page and reconciliation, in the caller's transaction. Inputs: the session's
-- id, client_reference_id, payment_status, amount_total and currency as Stripe reports
-- them. Outcomes (no error is raised for any of them):
--   unknown_purchase       the client_reference_id is not a purchase of ours;
--   session_mismatch       the purchase belongs to another Checkout Session;
--   already_fulfilled      done before (by whichever path came first);
--   purchase_not_pending   the purchase failed or expired before;
--   awaiting_payment       not paid (yet);
--   amount_mismatch        paid, but not the purchase's price, or the purchase's price is no
--                          longer the plan's (ssr_private.checkout_price_mismatch): purchase
--                          failed, refund owed;
--   fulfilled              session and routed request created (ssr_private.fulfill_checkout,
--                          which validates the rest: customer, plan, intake, routing);
--   fulfillment_rejected   paid, but routing refuses it now (e.g. the workshop was suspended
--                          since checkout): purchase failed, refund owed.
-- Concurrent calls for one purchase serialise on its row lock; the second finds it done.
-- The rules of fulfill_checkout are checked before it runs (ssr_private.fulfill_checkout_check,
-- in a block that writes nothing, so the fulfillment costs one transaction id, no
-- subtransaction's); should they change between that check and the inserts (a workshop
-- suspended by a transaction committing in between), fulfill_checkout raises and the whole
-- call rolls back (the webhook answers non-2xx and Stripe delivers again).
-- Any session recorded as unresolved (webhook refused after a 404) is marked resolved.
CREATE OR REPLACE FUNCTION fulfill_checkout_purchase(
    p_checkout_session_id text,
    p_client_reference_id text,
    p_payment_status text,
    p_amount_total integer,
    p_currency text
) RETURNS TABLE (
    outcome text,
    purchase_id uuid,
    purchase_status text,
    session_id uuid,
    session_request_id uuid,
    created boolean
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_outcome text;
    v_purchase checkout_purchases;
    v_plan plans;
    v_fulfilled record;
    v_reason text;
    v_created boolean := FALSE;
BEGIN
    UPDATE unresolved_checkout_sessions AS u SET resolved_at = now()
    WHERE u.stripe_checkout_session_id = p_checkout_session_id AND u.resolved_at IS NULL;

    v_purchase := ssr_private.checkout_purchase_for_session(p_checkout_session_id, p_client_reference_id);
    IF v_purchase.id IS NULL THEN
        v_outcome := 'unknown_purchase';
    ELSIF p_checkout_session_id IS NULL
        OR v_purchase.stripe_checkout_session_id IS DISTINCT FROM p_checkout_session_id THEN
        -- Only the Checkout Session created for this purchase may settle it.
        v_outcome := 'session_mismatch';
    ELSIF v_purchase.status = 'fulfilled' THEN
        v_outcome := 'already_fulfilled';
    ELSIF v_purchase.status <> 'pending' THEN
        v_outcome := 'purchase_not_pending';
    ELSIF p_payment_status IS DISTINCT FROM 'paid' THEN
        v_outcome := 'awaiting_payment';
    ELSE
        SELECT pl.* INTO v_plan FROM plans AS pl WHERE pl.code = v_purchase.plan_code;
        IF p_amount_total IS DISTINCT FROM v_purchase.amount_minor
            OR p_currency IS DISTINCT FROM v_purchase.currency
            OR ssr_private.checkout_price_mismatch(v_plan, v_purchase.amount_minor, v_purchase.currency) IS NOT NULL THEN
            v_outcome := 'amount_mismatch';
            UPDATE checkout_purchases AS cp
            SET status = 'failed', failure_reason = 'amount_mismatch', updated_at = now()
            WHERE cp.id = v_purchase.id;
            -- The customer paid something: give back what Stripe charged.
            PERFORM ssr_private.refund_enqueue(v_purchase.id, 'amount_mismatch', p_amount_total, p_currency);
        ELSE
            -- What fulfill_checkout would refuse, checked first in a block that writes nothing
            -- (ssr_private.fulfill_checkout_check): a read-only subtransaction takes no
            -- transaction id, and the inserts below run in this transaction, not in a
            -- subtransaction of their own.
            BEGIN
                PERFORM ssr_private.fulfill_checkout_check(
                    v_purchase.plan_code, p_checkout_session_id, v_purchase.intake_id,
                    v_purchase.customer_id, v_purchase.customer_email, p_amount_total, p_currency,
                    NULL, v_purchase.preferred_workshop_id, v_purchase.routing_type
                );
            EXCEPTION WHEN SQLSTATE 'SR400' OR SQLSTATE 'SR404' OR SQLSTATE 'SR409' THEN
                GET STACKED DIAGNOSTICS v_reason = MESSAGE_TEXT;
                v_outcome := 'fulfillment_rejected';
            END;
            IF v_outcome = 'fulfillment_rejected' THEN
                UPDATE checkout_purchases AS cp
                SET status = 'failed', failure_reason = 'fulfillment_rejected: ' || v_reason, updated_at = now()
                WHERE cp.id = v_purchase.id;
                PERFORM ssr_private.refund_enqueue(v_purchase.id, 'fulfillment_rejected', p_amount_total, p_currency);
            ELSE
                SELECT f.* INTO v_fulfilled
                FROM ssr_private.fulfill_checkout(
                    v_purchase.plan_code, p_checkout_session_id, v_purchase.intake_id,
                    v_purchase.customer_id, v_purchase.customer_email, p_amount_total, p_currency,
                    NULL, v_purchase.preferred_workshop_id, v_purchase.routing_type
                ) AS f;
                v_created := v_fulfilled.created;
                v_outcome := CASE WHEN v_created THEN 'fulfilled' ELSE 'already_fulfilled' END;
                UPDATE checkout_purchases AS cp
                SET status = 'fulfilled', session_id = v_fulfilled.session_id,
                    session_request_id = v_fulfilled.session_request_id,
                    fulfilled_at = now(), updated_at = now()
                WHERE cp.id = v_purchase.id;
            END IF;
        END IF;
    END IF;

    RETURN QUERY
    SELECT v_outcome, cp.id, cp.status, cp.session_id, cp.session_request_id, v_created
    FROM (SELECT 1) AS one
    LEFT JOIN checkout_purchases AS cp ON cp.id = v_purchase.id;
END
$$;

COMMENT ON FUNCTION fulfill_checkout_purchase(text, text, text, integer, text) IS
'The idempotent fulfillment of a re-fetched Checkout Session (webhook, success page, reconciliation); refund owed '
'when paid but rejected.';
