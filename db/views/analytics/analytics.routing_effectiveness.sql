-- BI contract: how well each routing type works, per UTC day of the request's
-- creation. One row per (routing_type, day) with requests.
-- Reads analytics_routing_rollup, kept by ssr_private.refresh_analytics() (the worker runs it every
-- few seconds; each run recounts the days that changed, with exact percentiles).
-- The figures of the session's life after accept (refunds, declines and their exact median
-- time from offer, sessions per status) are kept in the same rollup: a refund, a decline
-- or a session's change of status queues the day of its request.
CREATE OR REPLACE VIEW analytics.routing_effectiveness AS
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
    r.refunds,
    round(r.refunds::numeric / nullif(r.requests, 0), 4) AS refund_rate,
    r.declines,
    r.declined_requests,
    r.median_decline_seconds,
    r.sessions_waiting,
    r.sessions_live,
    r.sessions_completed,
    r.sessions_no_show
FROM analytics_routing_rollup AS r;

COMMENT ON VIEW analytics.routing_effectiveness IS
'BI contract: per routing type and UTC day of creation, request outcomes, hybrid escalations, time to accept '
'(median/p90/p99) and the share served by the preferred workshop. Reads the rollups kept by ssr_private.refresh_analytics().';
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
'Kept in the rollup (a refund queues its request''s day).';
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
