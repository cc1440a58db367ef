-- ssr_private.stripe_event_check(event id, type, livemode): the envelope every verified Stripe
-- event must have, checked once for the checkout and the refund handlers (handle_checkout_event,
-- handle_refund_event) before they record it. Owner only.
-- Errors: SR400 (column event_id) an id that is not evt_...; SR400 (type) no type;
-- SR400 (livemode) no livemode.
CREATE OR REPLACE FUNCTION ssr_private.stripe_event_check(p_event_id text, p_event_type text, p_livemode boolean)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_event_id IS NULL OR p_event_id !~ '^evt_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'event id must look like evt_...', COLUMN = 'event_id';
    END IF;
    IF p_event_type IS NULL OR btrim(p_event_type) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'event type is required', COLUMN = 'type';
    END IF;
    IF p_livemode IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'livemode is required', COLUMN = 'livemode';
    END IF;
END
$$;
