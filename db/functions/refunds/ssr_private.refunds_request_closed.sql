-- A paid request that ends unserved owes its customer a refund, however it ends:
-- expired by the sweep (expired_no_mechanic), cancelled by the customer
-- (cancel_customer_session_request sets refunds.reason = customer_cancelled) or cancelled
-- otherwise (request_cancelled). In the same transaction as the transition: the refund
-- row (refund_enqueue, one per purchase) and the session marked cancelled (it will not
-- take place; the refund worker marks it refunded once Stripe refunded it).
-- Requests without a purchase (no Stripe payment) only get their session cancelled.
CREATE OR REPLACE FUNCTION ssr_private.refunds_request_closed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_purchase_id uuid;
BEGIN
    IF NEW.session_id IS NOT NULL THEN
        UPDATE sessions AS s SET status = 'cancelled'
        WHERE s.id = NEW.session_id AND s.status = 'waiting';
    END IF;
    -- The purchase paid for this request's session, by the unique Checkout Session id.
    SELECT cp.id INTO v_purchase_id
    FROM sessions AS s
    INNER JOIN checkout_purchases AS cp ON s.stripe_checkout_session_id = cp.stripe_checkout_session_id
    WHERE s.id = NEW.session_id;
    IF v_purchase_id IS NOT NULL THEN
        PERFORM ssr_private.refund_enqueue(
            v_purchase_id,
            CASE
                WHEN NEW.status = 'expired' THEN 'expired_no_mechanic'
                WHEN current_setting('refunds.reason', TRUE) = 'customer_cancelled' THEN 'customer_cancelled'
                ELSE 'request_cancelled'
            END
        );
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.refunds_request_closed() IS
'Trigger: a request that ends expired or cancelled cancels its session and owes its purchase a refund (refund_enqueue).';
