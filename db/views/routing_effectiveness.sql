-- BI contract (issue 5): how well each routing type works, per UTC day of the
-- request's creation. One row per (routing_type, day) with requests.
-- Declines and sessions per status are those of the requests created that day.
-- Reads the full history: at millions of requests use routing_effectiveness_mv.
CREATE OR REPLACE VIEW routing_effectiveness AS
WITH declines AS (
    -- Declines of the requests created each day, with the time from offer to decline.
    SELECT
        sr.routing_type,
        date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date AS day,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM d.declined_at - d.offered_at)::double precision
        ) AS median_decline_seconds
    FROM session_request_declines AS d
    INNER JOIN session_requests AS sr ON d.request_id = sr.id
    GROUP BY sr.routing_type, date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date
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
    percentile_cont(0.5) WITHIN GROUP (
        ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
    ) AS median_accept_seconds,
    percentile_cont(0.9) WITHIN GROUP (
        ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
    ) AS p90_accept_seconds,
    percentile_cont(0.99) WITHIN GROUP (
        ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
    ) AS p99_accept_seconds,
    round(
        (count(*) FILTER (WHERE sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id))::numeric
        / nullif(count(*) FILTER (WHERE sr.preferred_workshop_id IS NOT NULL AND sr.status IN ('accepted', 'expired')), 0),
        4
    ) AS preferred_served_share,
    sum(cardinality(sr.declined_by)) AS declines,
    count(*) FILTER (WHERE cardinality(sr.declined_by) > 0) AS declined_requests,
    min(dc.median_decline_seconds) AS median_decline_seconds,
    count(*) FILTER (WHERE s.status = 'waiting' AND sr.status = 'accepted') AS sessions_waiting,
    count(*) FILTER (WHERE s.status = 'live') AS sessions_live,
    count(*) FILTER (WHERE s.status = 'completed') AS sessions_completed,
    count(*) FILTER (WHERE s.status = 'no_show') AS sessions_no_show
FROM session_requests AS sr
LEFT JOIN sessions AS s ON sr.session_id = s.id
LEFT JOIN declines AS dc
    ON
        sr.routing_type = dc.routing_type
        AND date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date = dc.day
GROUP BY sr.routing_type, date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date;

COMMENT ON VIEW routing_effectiveness IS
'BI contract: per routing type and UTC day of creation, request outcomes, hybrid escalations, time to accept '
'(median/p90/p99) and the share served by the preferred workshop. Live; routing_effectiveness_mv is the materialized copy.';
COMMENT ON COLUMN routing_effectiveness.routing_type IS 'workshop_only, hybrid or broadcast.';
COMMENT ON COLUMN routing_effectiveness.day IS 'UTC day on which the requests were created.';
COMMENT ON COLUMN routing_effectiveness.requests IS 'Requests created that day, any status.';
COMMENT ON COLUMN routing_effectiveness.accepted IS 'Of requests, those accepted by a mechanic.';
COMMENT ON COLUMN routing_effectiveness.expired IS 'Of requests, those that expired (nobody accepted in time).';
COMMENT ON COLUMN routing_effectiveness.cancelled IS 'Of requests, those cancelled.';
COMMENT ON COLUMN routing_effectiveness.pending IS 'Of requests, those still pending.';
COMMENT ON COLUMN routing_effectiveness.escalated IS
'hybrid: requests opened to everyone after the preferred workshop''s exclusive window passed (escalated_at set); '
'0 for the other routing types.';
COMMENT ON COLUMN routing_effectiveness.accepted_outside_preferred IS
'Accepted requests that named a preferred workshop but were taken by a mechanic of another workshop or an independent.';
COMMENT ON COLUMN routing_effectiveness.median_accept_seconds IS
'Median of accepted_at - created_at in seconds over the accepted requests (percentile_cont 0.5); NULL when none.';
COMMENT ON COLUMN routing_effectiveness.p90_accept_seconds IS '90th percentile of the time to accept, seconds.';
COMMENT ON COLUMN routing_effectiveness.p99_accept_seconds IS '99th percentile of the time to accept, seconds.';
COMMENT ON COLUMN routing_effectiveness.preferred_served_share IS
'Requests accepted by the preferred workshop / requests that named a preferred workshop and were accepted or expired; '
'0 to 1, 4 decimals; NULL when there were none (always NULL for broadcast without a preference).';

COMMENT ON COLUMN routing_effectiveness.declines IS
'Declines of the requests created that day (one per mechanic and request; session_request_declines).';
COMMENT ON COLUMN routing_effectiveness.declined_requests IS 'Of requests, those declined by at least one mechanic.';
COMMENT ON COLUMN routing_effectiveness.median_decline_seconds IS
'Median seconds from offer to decline over those declines; NULL when none.';
COMMENT ON COLUMN routing_effectiveness.sessions_waiting IS
'Of accepted requests, those whose session is still waiting (the call not started yet).';
COMMENT ON COLUMN routing_effectiveness.sessions_live IS 'Of requests, those whose session is live now.';
COMMENT ON COLUMN routing_effectiveness.sessions_completed IS 'Of requests, those whose session was completed.';
COMMENT ON COLUMN routing_effectiveness.sessions_no_show IS
'Of requests, those whose session was marked no-show (the customer did not come).';

GRANT SELECT ON routing_effectiveness TO analytics;
