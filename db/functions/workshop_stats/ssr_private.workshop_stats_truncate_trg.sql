-- workshop_stats: TRUNCATE fires no row triggers, so a TRUNCATE of mechanics,
-- sessions or reviews recounts the aggregates from scratch (workshop_stats_rebuild).
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_truncate_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ssr_private.workshop_stats_rebuild();
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ssr_private.workshop_stats_truncate_trg() FROM PUBLIC;
