-- routing_outbox_prune: deletes outbox rows older than p_keep (default 7 days), which no
-- reconnecting consumer needs any more; returns how many. Run it from cron with the sweep.
CREATE OR REPLACE FUNCTION ssr_private.routing_outbox_prune(p_keep interval DEFAULT interval '7 days')
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_deleted integer;
BEGIN
    IF p_keep IS NULL OR p_keep < interval '0' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('keep must be a positive interval (got %s)', p_keep), COLUMN = 'keep';
    END IF;
    DELETE FROM routing_outbox AS o WHERE o.created_at < now() - p_keep;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_outbox_prune(interval) IS
'Deletes routing_outbox rows older than p_keep (default 7 days); returns the count. SR400 for a negative or NULL interval.';
