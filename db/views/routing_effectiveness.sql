-- BI contract: how well each routing type works, per UTC day of the request's
-- creation. One row per (routing_type, day) with requests.
-- Reads analytics_routing_rollup, kept by refresh_analytics() (the worker runs it every
-- few seconds; each run recounts the days that changed, with exact percentiles).
-- The refund columns are read from refunds (one row per refunded purchase, a small table)
-- at query time.
-- Declines and sessions per status (the session's life after accept) are computed live
-- per row from that day's requests, not yet kept in the rollup (its table is created by a
-- migration numbered after this feature's).
CREATE OR REPLACE VIEW analytics.routing_effectiveness AS
WITH refunded AS (
    SELECT
        sr.routing_type,
        date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date AS day,
        count(*) AS refunds
    FROM public.refunds AS rf
    INNER JOIN public.session_requests AS sr ON rf.session_request_id = sr.id
    GROUP BY sr.routing_type, date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date
)

SELECT
    r.routing_type,
    r.day,
    r.requests,
    r.accepted,
    r.expired,
    r.cancelled,
    r.pending,
    r.escalated,
    r.accepted_outside_preferred,
    r.median_accept_seconds,
    r.p90_accept_seconds,
    r.p99_accept_seconds,
    round(r.preferred_accepted::numeric / nullif(r.preferred_closed, 0), 4) AS preferred_served_share,
    coalesce(f.refunds, 0) AS refunds,
    round(coalesce(f.refunds, 0)::numeric / nullif(r.requests, 0), 4) AS refund_rate,
    l.declines,
    l.declined_requests,
    l.median_decline_seconds,
    l.sessions_waiting,
    l.sessions_live,
    l.sessions_completed,
    l.sessions_no_show
FROM analytics_routing_rollup AS r
LEFT JOIN refunded AS f ON r.routing_type = f.routing_type AND r.day = f.day
-- The figures of the session's life after accept, computed live for each row from the
-- requests of that type and day (index session_requests_routing_type_idx).
CROSS JOIN LATERAL (
    SELECT
        coalesce(sum(cardinality(sr.declined_by)), 0) AS declines,
        count(*) FILTER (WHERE cardinality(sr.declined_by) > 0) AS declined_requests,
        (
            SELECT
                percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY extract(EPOCH FROM d.declined_at - d.offered_at)::double precision
                )
            FROM session_request_declines AS d
            INNER JOIN session_requests AS dr ON d.request_id = dr.id
            WHERE
                dr.routing_type = r.routing_type
                AND dr.created_at >= (r.day::timestamp AT TIME ZONE 'UTC')
                AND dr.created_at < ((r.day + 1)::timestamp AT TIME ZONE 'UTC')
        ) AS median_decline_seconds,
        count(*) FILTER (WHERE s.status = 'waiting' AND sr.status = 'accepted') AS sessions_waiting,
        count(*) FILTER (WHERE s.status = 'live') AS sessions_live,
        count(*) FILTER (WHERE s.status = 'completed') AS sessions_completed,
        count(*) FILTER (WHERE s.status = 'no_show') AS sessions_no_show
    FROM session_requests AS sr
    LEFT JOIN sessions AS s ON sr.session_id = s.id
    WHERE
        sr.routing_type = r.routing_type
        AND sr.created_at >= (r.day::timestamp AT TIME ZONE 'UTC')
        AND sr.created_at < ((r.day + 1)::timestamp AT TIME ZONE 'UTC')
) AS l;

COMMENT ON VIEW analytics.routing_effectiveness IS
'BI contract: per routing type and UTC day of creation, request outcomes, hybrid escalations, time to accept '
'(median/p90/p99) and the share served by the preferred workshop. Reads the rollups kept by refresh_analytics().';
COMMENT ON COLUMN analytics.routing_effectiveness.routing_type IS 'workshop_only, hybrid or broadcast.';
COMMENT ON COLUMN analytics.routing_effectiveness.day IS 'UTC day on which the requests were created.';
COMMENT ON COLUMN analytics.routing_effectiveness.requests IS 'Requests created that day, any status.';
COMMENT ON COLUMN analytics.routing_effectiveness.accepted IS 'Of requests, those accepted by a mechanic.';
COMMENT ON COLUMN analytics.routing_effectiveness.expired IS 'Of requests, those that expired (nobody accepted in time).';
COMMENT ON COLUMN analytics.routing_effectiveness.cancelled IS 'Of requests, those cancelled.';
COMMENT ON COLUMN analytics.routing_effectiveness.pending IS 'Of requests, those still pending.';
COMMENT ON COLUMN analytics.routing_effectiveness.escalated IS
'hybrid: requests opened to everyone after the preferred workshop''s exclusive window passed (escalated_at set); '
'0 for the other routing types.';
COMMENT ON COLUMN analytics.routing_effectiveness.accepted_outside_preferred IS
'Accepted requests that named a preferred workshop but were taken by a mechanic of another workshop or an independent.';
COMMENT ON COLUMN analytics.routing_effectiveness.median_accept_seconds IS
'Median of accepted_at - created_at in seconds over the accepted requests (percentile_cont 0.5); NULL when none.';
COMMENT ON COLUMN analytics.routing_effectiveness.p90_accept_seconds IS '90th percentile of the time to accept, seconds.';
COMMENT ON COLUMN analytics.routing_effectiveness.p99_accept_seconds IS '99th percentile of the time to accept, seconds.';
COMMENT ON COLUMN analytics.routing_effectiveness.preferred_served_share IS
'Requests accepted by the preferred workshop / requests that named a preferred workshop and were accepted or expired; '
'0 to 1, 4 decimals; NULL when there were none (always NULL for broadcast without a preference).';

COMMENT ON COLUMN analytics.routing_effectiveness.refunds IS
'Of requests, those owing their customer a refund: expired with nobody serving them, or cancelled before anyone '
'accepted (whatever the refund''s progress at Stripe). Purchases rejected before routing have no request: not counted. '
'Read from refunds at query time.';
COMMENT ON COLUMN analytics.routing_effectiveness.refund_rate IS 'refunds / requests, 0 to 1, 4 decimals.';
COMMENT ON COLUMN analytics.routing_effectiveness.declines IS
'Declines of the requests created that day (one per mechanic and request; session_request_declines).';
COMMENT ON COLUMN analytics.routing_effectiveness.declined_requests IS 'Of requests, those declined by at least one mechanic.';
COMMENT ON COLUMN analytics.routing_effectiveness.median_decline_seconds IS
'Median seconds from offer to decline over those declines; NULL when none.';
COMMENT ON COLUMN analytics.routing_effectiveness.sessions_waiting IS
'Of accepted requests, those whose session is still waiting (the call not started yet).';
COMMENT ON COLUMN analytics.routing_effectiveness.sessions_live IS 'Of requests, those whose session is live now.';
COMMENT ON COLUMN analytics.routing_effectiveness.sessions_completed IS 'Of requests, those whose session was completed.';
COMMENT ON COLUMN analytics.routing_effectiveness.sessions_no_show IS
'Of requests, those whose session was marked no-show (the customer did not come).';

GRANT SELECT ON analytics.routing_effectiveness TO analytics;
