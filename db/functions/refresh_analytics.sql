-- Refreshes the materialized analytics views (schema analytics). CONCURRENTLY (readers
-- keep reading the previous contents, no blocking) once a view is populated; a plain
-- refresh otherwise (CONCURRENTLY refuses an unpopulated view). Two refreshes of the same
-- view serialise on its lock. Run it from cron / pg_cron as the owner, e.g. every
-- 15 minutes: SELECT * FROM refresh_analytics();
CREATE OR REPLACE FUNCTION refresh_analytics()
RETURNS TABLE (materialized_view text, was_concurrent boolean, row_count bigint)
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_name text;
    v_populated boolean;
BEGIN
    FOREACH v_name IN ARRAY ARRAY['workshop_session_analytics_mv', 'routing_effectiveness_mv'] LOOP
        SELECT mv.ispopulated INTO v_populated
        FROM pg_matviews AS mv
        WHERE mv.schemaname = 'analytics' AND mv.matviewname = v_name;
        IF v_populated THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.%I', v_name);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW analytics.%I', v_name);
        END IF;
        materialized_view := v_name;
        was_concurrent := coalesce(v_populated, FALSE);
        EXECUTE format('SELECT count(*) FROM analytics.%I', v_name) INTO row_count;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION refresh_analytics() IS
'Refreshes analytics.workshop_session_analytics_mv and analytics.routing_effectiveness_mv (CONCURRENTLY when '
'populated); returns one row per view. Owner only (not executable by analytics, the app or PUBLIC).';
