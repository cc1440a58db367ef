-- reconciliation_run_start: opens a reconciliation run over the Checkout Sessions created
-- since p_created_since and returns its id, with the unresolved sessions to retry
-- (those a webhook named and Stripe answered 404 for). Errors: SR400 p_created_since
-- missing or in the future.
CREATE OR REPLACE FUNCTION ssr_private.reconciliation_run_start(p_created_since timestamptz)
RETURNS TABLE (run_id bigint, unresolved text[])
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
BEGIN
    IF p_created_since IS NULL OR p_created_since > now() THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'created_since must be a moment in the past',
            COLUMN = 'created_since';
    END IF;
    INSERT INTO reconciliation_runs (created_since) VALUES (p_created_since) RETURNING id INTO v_id;
    RETURN QUERY
    SELECT v_id, coalesce(array_agg(u.stripe_checkout_session_id ORDER BY u.first_seen_at), ARRAY[]::text [])
    FROM unresolved_checkout_sessions AS u
    WHERE u.resolved_at IS NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.reconciliation_run_start(timestamptz) IS
'Opens a reconciliation run; returns its id and the unresolved Checkout Sessions to retry.';
