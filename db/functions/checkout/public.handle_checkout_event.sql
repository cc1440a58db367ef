-- Process one verified Stripe webhook event in one transaction (the app's only call):
-- record the event id (a duplicate delivery returns outcome 'duplicate' and does
-- nothing else), then act on the re-fetched Checkout Session fields:
--   checkout.session.completed / async_payment_succeeded: fulfill_checkout_purchase, the
--     procedure the success page and reconciliation use too (fulfil when paid, for a
--     pending purchase of ours, with amount and currency matching the purchase and the
--     plan; a refund is owed when paid but rejected);
--   checkout.session.async_payment_failed: purchase failed (payment_failed);
--   checkout.session.expired: purchase expired;
--   anything else: recorded as ignored.
-- An exception (e.g. a transient error) rolls back the event row too, so Stripe's
-- retry is processed again. A fulfillment the routing rules reject after payment
-- marks the purchase failed (fulfillment_rejected) and owes a refund, instead of looping.
CREATE OR REPLACE FUNCTION handle_checkout_event(
    p_event_id text,
    p_event_type text,
    p_livemode boolean,
    p_checkout_session_id text DEFAULT NULL,
    p_client_reference_id text DEFAULT NULL,
    p_payment_status text DEFAULT NULL,
    p_amount_total integer DEFAULT NULL,
    p_currency text DEFAULT NULL
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
    v_result record;
    v_created boolean := FALSE;
BEGIN
    PERFORM ssr_private.stripe_event_check(p_event_id, p_event_type, p_livemode);

    INSERT INTO stripe_events AS e (id, type, livemode, stripe_checkout_session_id)
    VALUES (p_event_id, p_event_type, p_livemode, p_checkout_session_id)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, e.purchase_id, NULL::text, NULL::uuid, NULL::uuid, FALSE
        FROM stripe_events AS e WHERE e.id = p_event_id;
        RETURN;
    END IF;

    IF p_event_type NOT IN (
        'checkout.session.completed', 'checkout.session.async_payment_succeeded',
        'checkout.session.async_payment_failed', 'checkout.session.expired'
    ) THEN
        v_outcome := 'ignored';
    ELSIF p_event_type IN ('checkout.session.completed', 'checkout.session.async_payment_succeeded') THEN
        SELECT f.* INTO v_result
        FROM fulfill_checkout_purchase(
            p_checkout_session_id, p_client_reference_id, p_payment_status, p_amount_total, p_currency
        ) AS f;
        v_outcome := v_result.outcome;
        v_created := v_result.created;
        v_purchase.id := v_result.purchase_id;
    ELSE
        v_purchase := ssr_private.checkout_purchase_for_session(p_checkout_session_id, p_client_reference_id);
        IF v_purchase.id IS NULL THEN
            v_outcome := 'unknown_purchase';
        ELSIF p_checkout_session_id IS NULL
            OR v_purchase.stripe_checkout_session_id IS DISTINCT FROM p_checkout_session_id THEN
            v_outcome := 'session_mismatch';
        ELSIF v_purchase.status <> 'pending' THEN
            v_outcome := 'purchase_not_pending';
        ELSIF p_event_type = 'checkout.session.async_payment_failed' THEN
            v_outcome := 'payment_failed';
            UPDATE checkout_purchases AS cp
            SET status = 'failed', failure_reason = 'payment_failed', updated_at = now()
            WHERE cp.id = v_purchase.id;
        ELSE
            v_outcome := 'expired';
            UPDATE checkout_purchases AS cp
            SET status = 'expired', updated_at = now()
            WHERE cp.id = v_purchase.id;
        END IF;
    END IF;

    UPDATE stripe_events AS e
    SET outcome = v_outcome, purchase_id = v_purchase.id
    WHERE e.id = p_event_id;

    RETURN QUERY
    SELECT v_outcome, cp.id, cp.status, cp.session_id, cp.session_request_id, v_created
    FROM (SELECT 1) AS one
    LEFT JOIN checkout_purchases AS cp ON cp.id = v_purchase.id;
END;
$$;

COMMENT ON FUNCTION handle_checkout_event(text, text, boolean, text, text, text, integer, text) IS
'Record a verified Stripe event once and act on it (fulfil, fail, expire) in the same transaction.';
