-- analytics_rollups_rebuild: recounts every analytics rollup (and the closed spans cut at
-- days, analytics_span_days) from the base tables and empties the change queue; returns
-- the number of rollup rows written. The repair tool after a TRUNCATE or a bulk load with
-- triggers disabled (the benchmark generator calls it); ssr_private.refresh_analytics() keeps the
-- rollups exact from then on. It locks the queue, the rollups and the span pieces
-- (EXCLUSIVE: readers keep reading, writers of sessions, requests, reviews, declines,
-- refunds and presence wait for it) so no change is lost between the recount and the
-- emptied queue. Owner only. No inputs, no errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.analytics_rollups_rebuild()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = public, pg_temp
-- Whole tables: hash joins (the planner's nested loops over misestimated aggregates took
-- minutes); the small recounts of refresh_analytics keep their index lookups.
SET enable_nestloop = off
-- Planned for its real bounds (whole tables), never with a generic plan cached by
-- refresh_analytics in the same session for a day's bounds.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_first date;
    v_last date;
    v_workshops uuid[];
    v_rows bigint := 0;
BEGIN
    LOCK TABLE analytics_changes, analytics_workshop_rollup, analytics_routing_rollup, analytics_span_days
    IN EXCLUSIVE MODE;
    DELETE FROM analytics_changes;
    DELETE FROM analytics_workshop_rollup;
    DELETE FROM analytics_routing_rollup;
    -- The closed spans cut at UTC days, from the base tables.
    DELETE FROM analytics_span_days;
    INSERT INTO analytics_span_days (source, source_id, day, workshop_id, seconds)
    SELECT 'session', s.id::text, p.day, s.workshop_id, p.seconds
    FROM sessions AS s
    CROSS JOIN LATERAL ssr_private.analytics_day_pieces(s.started_at, s.ended_at) AS p
    WHERE s.workshop_id IS NOT NULL AND s.started_at IS NOT NULL AND s.ended_at IS NOT NULL AND p.seconds > 0
    UNION ALL
    SELECT 'availability', a.id::text, p.day, a.workshop_id, p.seconds
    FROM mechanic_availability AS a
    CROSS JOIN LATERAL ssr_private.analytics_day_pieces(a.started_at, a.ended_at) AS p
    WHERE a.workshop_id IS NOT NULL AND a.ended_at IS NOT NULL AND p.seconds > 0;
    SELECT
        date_trunc('day', min(t.created_at) AT TIME ZONE 'UTC')::date,
        date_trunc('day', max(t.created_at) AT TIME ZONE 'UTC')::date
    INTO v_first, v_last
    FROM (
        SELECT min(s.created_at) AS created_at FROM sessions AS s
        UNION ALL SELECT max(s.created_at) FROM sessions AS s
        UNION ALL SELECT min(r.created_at) FROM session_requests AS r
        UNION ALL SELECT max(r.created_at) FROM session_requests AS r
        UNION ALL SELECT min(d.declined_at) FROM session_request_declines AS d
        UNION ALL SELECT max(d.declined_at) FROM session_request_declines AS d
        UNION ALL SELECT min(p.day)::timestamp AT TIME ZONE 'UTC' FROM analytics_span_days AS p
        UNION ALL SELECT max(p.day)::timestamp AT TIME ZONE 'UTC' FROM analytics_span_days AS p
    ) AS t;
    IF v_first IS NULL THEN
        RETURN 0;
    END IF;
    v_workshops := ARRAY(SELECT o.id FROM organizations AS o);
    -- All grains in one pass over the base tables (cheaper than merging millions of days;
    -- refresh_analytics merges, and the property test holds both equal to a recount).
    v_rows := v_rows + ssr_private.analytics_workshop_recount(ARRAY['day', 'week', 'month'], v_first, v_last, v_workshops);
    v_rows := v_rows + ssr_private.analytics_routing_recount(
        v_first, v_last, ARRAY['workshop_only', 'hybrid', 'broadcast']
    );
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_rollups_rebuild() IS
'Recounts analytics_workshop_rollup and analytics_routing_rollup from scratch and empties analytics_changes; '
'returns the rollup rows written. Owner only.';
REVOKE ALL ON FUNCTION ssr_private.analytics_rollups_rebuild() FROM PUBLIC;
