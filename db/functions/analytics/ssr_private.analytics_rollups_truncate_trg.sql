-- analytics rollups: TRUNCATE fires no row triggers, so a TRUNCATE of sessions,
-- session_requests, reviews, session_request_declines, refunds or mechanic_availability
-- recounts the rollups from scratch
-- (analytics_rollups_rebuild). SECURITY DEFINER like the queue triggers. No errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_rollups_truncate_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ssr_private.analytics_rollups_rebuild();
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.analytics_rollups_truncate_trg() FROM PUBLIC;
