-- get_staff_checkouts: the Checkout Sessions Stripe answered 404 for (unresolved_checkout_sessions:
-- a webhook named them, reconciliation keeps retrying them), for support, read-only, acting for an
-- active staff member. p_include_resolved: also the resolved ones (default: open only). Oldest
-- first. Per session: first and last seen, attempts, the last error, the purchase of ours it
-- names if any (status, customer, amount), resolved_at, and who resolved it with which note
-- (the audit's last checkout.resolve; NULL when reconciliation resolved it by retrieving it).
-- p_limit 1..500 (default 100).
-- Errors, in order: SR400 (limit) out of range; those of ssr_private.assert_staff (SR400/SR403).
CREATE OR REPLACE FUNCTION get_staff_checkouts(
    p_staff_id uuid,
    p_include_resolved boolean DEFAULT FALSE,
    p_limit integer DEFAULT 100
)
RETURNS TABLE (
    checkout_session_id text,
    first_event_id text,
    first_seen_at timestamptz,
    last_seen_at timestamptz,
    attempts integer,
    last_error text,
    resolved_at timestamptz,
    purchase_id uuid,
    purchase_status text,
    customer_email text,
    amount_minor integer,
    currency text,
    resolved_by text,
    resolution_note text
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be from 1 to 500 (got %s)', p_limit), COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');

    RETURN QUERY
    SELECT
        u.stripe_checkout_session_id,
        u.first_event_id,
        u.first_seen_at,
        u.last_seen_at,
        u.attempts,
        u.last_error,
        u.resolved_at,
        cp.id,
        cp.status,
        cp.customer_email,
        cp.amount_minor,
        cp.currency,
        CASE WHEN u.resolved_at IS NOT NULL THEN la.name END,
        CASE WHEN u.resolved_at IS NOT NULL THEN la.details ->> 'note' END
    FROM unresolved_checkout_sessions AS u
    LEFT JOIN checkout_purchases AS cp ON u.stripe_checkout_session_id = cp.stripe_checkout_session_id
    LEFT JOIN LATERAL (
        SELECT sm.name, sa.details
        FROM ssr_private.staff_actions AS sa
        INNER JOIN staff_members AS sm ON sa.staff_id = sm.id
        WHERE sa.action = 'checkout.resolve' AND sa.subject = u.stripe_checkout_session_id
        ORDER BY sa.acted_at DESC, sa.id DESC
        LIMIT 1
    ) AS la ON TRUE
    WHERE coalesce(p_include_resolved, FALSE) OR u.resolved_at IS NULL
    ORDER BY u.first_seen_at, u.stripe_checkout_session_id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_staff_checkouts(uuid, boolean, integer) IS
'Staff (support): unresolved Checkout Sessions (optionally the resolved too) with their purchase and who '
'resolved them.';
