-- get_checkout_progress: where a paid Checkout Session stands now, for the customer's live
-- success page (one call returns everything the page shows). Never changes anything.
-- Input: a Checkout Session id (cs_...). Output: no row for an unknown id; else one row:
--   state: confirming (paid at Stripe, fulfillment not recorded yet) | failed (the purchase
--          failed or expired) | searching (looking for a mechanic) | assigned | expired
--          (nobody took it in time: refund due) | cancelled;
--   routing_type and the preferred workshop's name; exclusive_until (the hybrid window,
--   only while it is still open), expires_at; the accepting mechanic's and serving
--   workshop's names; the refund the purchase is owed, if any: refund_status (pending, then
--   succeeded or failed, as the refund worker and Stripe's refund webhooks left it; NULL
--   when nothing is owed), its amount and currency, refunded_at; server_now (the page
--   counts the window down from it, not from the browser's clock).
-- Errors: none (a malformed id simply matches no row).
-- SECURITY DEFINER (search_path pinned): the app's login has no table privileges.
-- (DROP first: the columns of the result changed, which CREATE OR REPLACE cannot do.)
DROP FUNCTION IF EXISTS get_checkout_progress(text);

CREATE OR REPLACE FUNCTION get_checkout_progress(p_stripe_checkout_session_id text)
RETURNS TABLE (
    state text,
    purchase_status text,
    failure_reason text,
    plan_code text,
    plan_name text,
    routing_type text,
    preferred_workshop_id uuid,
    preferred_workshop_name text,
    session_request_id uuid,
    request_status text,
    outcome text,
    exclusive_until timestamptz,
    expires_at timestamptz,
    escalated_at timestamptz,
    accepted_at timestamptz,
    mechanic_name text,
    workshop_name text,
    refund_status text,
    refund_amount_minor integer,
    refund_currency text,
    refunded_at timestamptz,
    server_now timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    SELECT
        CASE
            WHEN cp.status IN ('failed', 'expired') THEN 'failed'
            WHEN cp.status = 'pending' OR sr.id IS NULL THEN 'confirming'
            WHEN sr.status = 'pending' THEN 'searching'
            WHEN sr.status = 'accepted' THEN 'assigned'
            ELSE sr.status
        END,
        cp.status,
        cp.failure_reason,
        cp.plan_code,
        pl.name,
        cp.routing_type,
        cp.preferred_workshop_id,
        pw.name,
        sr.id,
        sr.status,
        sr.outcome,
        CASE WHEN sr.status = 'pending' AND sr.exclusive_until > now() THEN sr.exclusive_until END,
        sr.expires_at,
        sr.escalated_at,
        sr.accepted_at,
        m.name,
        sw.name,
        rf.status,
        rf.amount_minor,
        rf.currency,
        rf.succeeded_at,
        now()
    FROM checkout_purchases AS cp
    INNER JOIN plans AS pl ON cp.plan_code = pl.code
    LEFT JOIN organizations AS pw ON cp.preferred_workshop_id = pw.id
    LEFT JOIN session_requests AS sr ON cp.session_request_id = sr.id
    LEFT JOIN mechanics AS m ON sr.mechanic_id = m.id
    LEFT JOIN organizations AS sw ON sr.workshop_id = sw.id
    LEFT JOIN refunds AS rf ON cp.id = rf.purchase_id
    WHERE cp.stripe_checkout_session_id = p_stripe_checkout_session_id;
$$;

COMMENT ON FUNCTION get_checkout_progress(text) IS
'Live state of a Checkout Session for the success page: confirming, failed, searching (window), assigned (mechanic, workshop), expired, cancelled; and the refund owed, if any.';
