-- analytics_routing_recount: recounts the rows of analytics_routing_rollup for the given
-- routing types over UTC days p_first_day..p_last_day from session_requests, replacing
-- what was there (days without requests lose their row). Returns the rows written.
-- Internal: called by refresh_analytics() for the touched routing-days and by
-- analytics_rollups_rebuild(). No errors of its own (NULL arguments recount nothing).
-- A day is recounted whole (exact percentiles): the cost of a refresh grows with the
-- requests of the days that changed, never with the history.
CREATE OR REPLACE FUNCTION ssr_private.analytics_routing_recount(
    p_first_day date,
    p_last_day date,
    p_types text[]
) RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_from timestamptz := p_first_day::timestamp AT TIME ZONE 'UTC';
    v_to timestamptz := (p_last_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_rows integer;
BEGIN
    DELETE FROM analytics_routing_rollup AS r
    WHERE r.routing_type = ANY(p_types) AND r.day BETWEEN p_first_day AND p_last_day;

    INSERT INTO analytics_routing_rollup (
        routing_type, day, requests, accepted, expired, cancelled, pending, escalated,
        accepted_outside_preferred, preferred_accepted, preferred_closed,
        median_accept_seconds, p90_accept_seconds, p99_accept_seconds
    )
    SELECT
        sr.routing_type,
        date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date AS day,
        count(*) AS requests,
        count(*) FILTER (WHERE sr.status = 'accepted') AS accepted,
        count(*) FILTER (WHERE sr.status = 'expired') AS expired,
        count(*) FILTER (WHERE sr.status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE sr.status = 'pending') AS pending,
        count(*) FILTER (WHERE sr.escalated_at IS NOT NULL) AS escalated,
        count(*) FILTER (
            WHERE sr.status = 'accepted' AND sr.preferred_workshop_id IS NOT NULL
            AND sr.workshop_id IS DISTINCT FROM sr.preferred_workshop_id
        ) AS accepted_outside_preferred,
        count(*) FILTER (WHERE sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id)
        AS preferred_accepted,
        count(*) FILTER (WHERE sr.preferred_workshop_id IS NOT NULL AND sr.status IN ('accepted', 'expired'))
        AS preferred_closed,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
        ) AS median_accept_seconds,
        percentile_cont(0.9) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
        ) AS p90_accept_seconds,
        percentile_cont(0.99) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
        ) AS p99_accept_seconds
    FROM session_requests AS sr
    WHERE sr.routing_type = ANY(p_types) AND sr.created_at >= v_from AND sr.created_at < v_to
    GROUP BY sr.routing_type, date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_routing_recount(date, date, text[]) IS
'Internal: recounts analytics_routing_rollup for these routing types and UTC days from session_requests.';
REVOKE ALL ON FUNCTION ssr_private.analytics_routing_recount(date, date, text[]) FROM PUBLIC;
