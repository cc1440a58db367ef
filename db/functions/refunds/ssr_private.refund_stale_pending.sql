-- ssr_private.refund_stale_pending: the refunds Stripe accepted but left pending, unchanged for
-- at least p_older_than (their webhook may be lost), oldest first, at most p_limit: what
-- reconciliation re-fetches from Stripe (worker/refunds.py refresh_pending_refunds). The
-- worker's login reads them here instead of reading the table (it has no table privilege).
-- Errors: SR400 (COLUMN older_than) for a NULL or negative interval, SR400 (COLUMN limit) for
-- a NULL limit or one outside 1..10000.
CREATE OR REPLACE FUNCTION ssr_private.refund_stale_pending(
    p_older_than interval DEFAULT interval '1 hour',
    p_limit integer DEFAULT 500
) RETURNS TABLE (id uuid, stripe_refund_id text, stripe_status text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF p_older_than IS NULL OR p_older_than < interval '0' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('older_than must be a positive interval (got %s)', p_older_than),
            COLUMN = 'older_than';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be between 1 and 10000 (got %s)', p_limit),
            COLUMN = 'limit';
    END IF;
    RETURN QUERY
    SELECT r.id, r.stripe_refund_id, r.stripe_status
    FROM refunds AS r
    WHERE r.status = 'pending' AND r.stripe_refund_id IS NOT NULL AND r.updated_at < now() - p_older_than
    ORDER BY r.updated_at
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION ssr_private.refund_stale_pending(interval, integer) IS
'Refunds pending at Stripe and unchanged for p_older_than (default 1 hour), oldest first, at most p_limit: '
'what reconciliation re-fetches.';
