-- handle_refund_event: one verified Stripe refund webhook (refund.created,
-- refund.updated, refund.failed, charge.refunded) in one transaction, as
-- handle_checkout_event does for Checkout Sessions: records the event id (a duplicate
-- returns 'duplicate' and does nothing else), then applies the refunds as the app
-- re-fetched them from Stripe. p_refunds is a JSON array of Stripe refund objects (id,
-- status, metadata.refund_id); each is matched to our refund by its Stripe id or, for a
-- refund whose creation the worker never recorded (it died before its commit), by
-- metadata.refund_id; refund_apply_stripe_status records the status (a refund without a
-- known status is skipped).
-- Outcomes: refund_updated (at least one matched), unknown_refund (none of ours),
-- duplicate. Errors, in order: SR400 event id, type, livemode, refunds not an array.
CREATE OR REPLACE FUNCTION handle_refund_event(
    p_event_id text,
    p_event_type text,
    p_livemode boolean,
    p_refunds jsonb
) RETURNS TABLE (
    outcome text,
    purchase_id uuid,
    refund_id uuid,
    refund_status text
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_item jsonb;
    v_ours refunds;
    v_meta text;
    v_last refunds;
BEGIN
    PERFORM ssr_private.stripe_event_check(p_event_id, p_event_type, p_livemode);
    IF p_refunds IS NULL OR jsonb_typeof(p_refunds) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'refunds must be a JSON array', COLUMN = 'refunds';
    END IF;

    INSERT INTO stripe_events AS e (id, type, livemode)
    VALUES (p_event_id, p_event_type, p_livemode)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, e.purchase_id, NULL::uuid, NULL::text
        FROM stripe_events AS e WHERE e.id = p_event_id;
        RETURN;
    END IF;

    FOR v_item IN SELECT x.value FROM jsonb_array_elements(p_refunds) AS x (value) LOOP
        CONTINUE WHEN jsonb_typeof(v_item) <> 'object' OR (v_item ->> 'id') IS NULL
        OR coalesce(v_item ->> 'status', '') NOT IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled');
        SELECT rf.* INTO v_ours FROM refunds AS rf WHERE rf.stripe_refund_id = v_item ->> 'id';
        IF NOT FOUND THEN
            v_meta := v_item -> 'metadata' ->> 'refund_id';
            IF v_meta ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
                SELECT rf.* INTO v_ours FROM refunds AS rf
                WHERE rf.id = v_meta::uuid AND rf.stripe_refund_id IS NULL;
            END IF;
        END IF;
        CONTINUE WHEN v_ours.id IS NULL;
        v_last := ssr_private.refund_apply_stripe_status(v_ours.id, v_item ->> 'id', v_item ->> 'status');
        v_ours := NULL;
    END LOOP;

    UPDATE stripe_events AS e
    SET
        outcome = CASE WHEN v_last.id IS NULL THEN 'unknown_refund' ELSE 'refund_updated' END,
        purchase_id = v_last.purchase_id
    WHERE e.id = p_event_id;

    RETURN QUERY SELECT
        CASE WHEN v_last.id IS NULL THEN 'unknown_refund' ELSE 'refund_updated' END,
        v_last.purchase_id, v_last.id, v_last.status;
END
$$;

COMMENT ON FUNCTION handle_refund_event(text, text, boolean, jsonb) IS
'Record a verified Stripe refund event once and apply the re-fetched refunds'' status to ours.';
