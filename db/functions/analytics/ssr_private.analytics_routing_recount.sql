-- analytics_routing_recount: recounts the rows of analytics_routing_rollup for the given
-- routing types over UTC days p_first_day..p_last_day from session_requests (with their
-- sessions, refunds and declines), replacing
-- what was there (days without requests lose their row). Returns the rows written.
-- Internal: called by ssr_private.refresh_analytics() for the touched routing-days and by
-- ssr_private.analytics_rollups_rebuild(). No errors of its own (NULL arguments recount nothing).
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
        median_accept_seconds, p90_accept_seconds, p99_accept_seconds, refunds, declines, declined_requests,
        median_decline_seconds, sessions_waiting, sessions_live, sessions_completed, sessions_no_show
    )
    WITH declined AS (
        -- Seconds from offer to decline of the declines of the day's requests (exact median).
        SELECT
            dr.routing_type,
            date_trunc('day', dr.created_at AT TIME ZONE 'UTC')::date AS day,
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(EPOCH FROM d.declined_at - d.offered_at)::double precision
            ) AS median_decline_seconds
        FROM session_request_declines AS d
        INNER JOIN session_requests AS dr ON d.request_id = dr.id
        WHERE dr.routing_type = ANY(p_types) AND dr.created_at >= v_from AND dr.created_at < v_to
        GROUP BY dr.routing_type, date_trunc('day', dr.created_at AT TIME ZONE 'UTC')::date
    ),

    counted AS (
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
            ) AS p99_accept_seconds,
            sum((SELECT count(*) FROM refunds AS rf WHERE rf.session_request_id = sr.id)) AS refunds,
            coalesce(sum(cardinality(sr.declined_by)), 0) AS declines,
            count(*) FILTER (WHERE cardinality(sr.declined_by) > 0) AS declined_requests,
            count(*) FILTER (WHERE s.status = 'waiting' AND sr.status = 'accepted') AS sessions_waiting,
            count(*) FILTER (WHERE s.status = 'live') AS sessions_live,
            count(*) FILTER (WHERE s.status = 'completed') AS sessions_completed,
            count(*) FILTER (WHERE s.status = 'no_show') AS sessions_no_show
        FROM session_requests AS sr
        LEFT JOIN sessions AS s ON sr.session_id = s.id
        WHERE sr.routing_type = ANY(p_types) AND sr.created_at >= v_from AND sr.created_at < v_to
        GROUP BY sr.routing_type, date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date
    )

    SELECT
        c.routing_type, c.day, c.requests, c.accepted, c.expired, c.cancelled, c.pending, c.escalated,
        c.accepted_outside_preferred, c.preferred_accepted, c.preferred_closed,
        c.median_accept_seconds, c.p90_accept_seconds, c.p99_accept_seconds, c.refunds, c.declines,
        c.declined_requests, d.median_decline_seconds, c.sessions_waiting, c.sessions_live,
        c.sessions_completed, c.sessions_no_show
    FROM counted AS c
    LEFT JOIN declined AS d ON c.routing_type = d.routing_type AND c.day = d.day;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_routing_recount(date, date, text[]) IS
'Internal: recounts analytics_routing_rollup for these routing types and UTC days from session_requests.';
REVOKE ALL ON FUNCTION ssr_private.analytics_routing_recount(date, date, text[]) FROM PUBLIC;
