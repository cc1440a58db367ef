-- ssr_private.refund_enqueue: records that a purchase is owed a refund, in the caller's transaction
-- (the one that writes the outcome owing it). Inputs: the purchase, the reason (see
-- refunds.reason), and optionally the amount and currency actually paid (default: the
-- purchase's). At most one refund per purchase: a second call returns the existing
-- row's id (unique purchase_id, INSERT ... ON CONFLICT DO NOTHING).
-- Errors, in order: SR400 purchase_id missing; SR404 unknown purchase; SR400 purchase
-- without a Checkout Session (nothing was paid through Stripe). Returns NULL when the
-- amount paid is not a positive amount in a valid currency (nothing to refund).
CREATE OR REPLACE FUNCTION ssr_private.refund_enqueue(
    p_purchase_id uuid,
    p_reason text,
    p_amount_minor integer DEFAULT NULL,
    p_currency text DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_purchase checkout_purchases;
    v_amount integer;
    v_currency text;
    v_id uuid;
BEGIN
    IF p_purchase_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'purchase_id is required', COLUMN = 'purchase_id';
    END IF;
    SELECT cp.* INTO v_purchase FROM checkout_purchases AS cp WHERE cp.id = p_purchase_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('purchase %s: no such purchase', p_purchase_id),
            COLUMN = 'purchase_id';
    END IF;
    IF v_purchase.stripe_checkout_session_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'the purchase has no Checkout Session, nothing was paid',
            COLUMN = 'purchase_id';
    END IF;
    v_amount := coalesce(p_amount_minor, v_purchase.amount_minor);
    v_currency := lower(coalesce(p_currency, v_purchase.currency));
    IF v_amount IS NULL OR v_amount <= 0 OR v_currency !~ '^[a-z]{3}$' THEN
        RETURN NULL;
    END IF;

    INSERT INTO refunds AS rf (
        purchase_id, session_id, session_request_id, stripe_checkout_session_id, amount_minor, currency, reason
    ) VALUES (
        v_purchase.id, v_purchase.session_id, v_purchase.session_request_id, v_purchase.stripe_checkout_session_id,
        v_amount, v_currency, p_reason
    )
    ON CONFLICT (purchase_id) DO NOTHING
    RETURNING rf.id INTO v_id;
    IF v_id IS NULL THEN
        SELECT rf.id INTO v_id FROM refunds AS rf WHERE rf.purchase_id = v_purchase.id;
    END IF;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION ssr_private.refund_enqueue(uuid, text, integer, text) IS
'Records in the caller''s transaction that a purchase is owed a refund; at most one per purchase; returns its id.';
