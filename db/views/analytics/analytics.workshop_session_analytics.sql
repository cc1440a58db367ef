-- BI contract: per workshop and period, at three grains.
-- One row per (workshop_id, period_grain, period_start) that had any activity.
-- Periods are UTC: day, ISO week (starting Monday) and calendar month. Sessions,
-- revenue and reviews are dated by sessions.created_at; request figures and times to
-- accept by session_requests.created_at.
-- Reads analytics_workshop_rollup, kept by ssr_private.refresh_analytics() (the worker runs it
-- every few seconds): a read costs the rows it returns, whatever the history. Medians
-- and p90 come from the rollup's histogram of times to accept (buckets of 3
-- significant digits: within 0.5 % of the exact percentile_cont). To add a figure: a
-- column in the rollup (a migration); in analytics_workshop_rows (the one place that counts
-- and merges, for analytics_workshop_recount and analytics_workshop_merge) its value in
-- each branch of the facts, its sum, and its place in the final column list; and here.
-- The figures of the session's life after accept are in the rollup too: sessions per status
-- (dated like the sessions served), refunds (of the sessions that named the workshop as
-- preferred), declines dated by declined_at with the median seconds from offer to decline
-- from a second histogram of the same buckets (within 0.5 % of the exact percentile_cont),
-- and the seconds of calls and availability intervals that ended, cut at UTC days (days
-- add up exactly to weeks and months). Only what is open right now is read at query time:
-- the calls live now and the mechanics available now of the row's workshop (partial
-- indexes sessions_open_span_idx and mechanic_availability_open_workshop_idx), counted up
-- to now. The rollup also keeps rows for periods with only declines or spans; the view
-- shows the periods with session or request activity, as before.
CREATE OR REPLACE VIEW analytics.workshop_session_analytics AS
SELECT
    r.workshop_id,
    o.name AS workshop_name,
    r.period_grain,
    r.period_start,
    r.sessions_served,
    r.preferred_sessions,
    r.preferred_requests,
    r.preferred_requests_closed,
    r.preferred_served_by_self,
    round(r.preferred_served_by_self::numeric / nullif(r.preferred_requests_closed, 0), 4)
        AS preferred_self_serve_share,
    CASE WHEN cardinality(r.revenue_currencies) <= 1 THEN r.revenue_minor END AS revenue_minor,
    CASE WHEN cardinality(r.revenue_currencies) = 1 THEN r.revenue_currencies[1] END AS revenue_currency,
    r.review_count,
    round(r.rating_sum::numeric / nullif(r.review_count, 0), 2) AS avg_rating,
    r.accepted_requests,
    r.median_accept_seconds,
    r.p90_accept_seconds,
    r.refunds,
    round(r.refunds::numeric / nullif(r.preferred_sessions, 0), 4) AS refund_rate,
    r.sessions_waiting,
    r.sessions_live,
    r.sessions_completed,
    r.sessions_no_show,
    r.sessions_cancelled,
    r.sessions_refunded,
    r.declines,
    r.median_decline_seconds,
    round((r.live_seconds + coalesce(x.live_seconds, 0)) / 60, 2) AS live_minutes,
    round((r.available_seconds + coalesce(x.available_seconds, 0)) / 60, 2) AS available_minutes,
    round(
        (r.live_seconds + coalesce(x.live_seconds, 0))
        / nullif(r.available_seconds + coalesce(x.available_seconds, 0), 0),
        4
    ) AS utilisation
FROM analytics_workshop_rollup AS r
INNER JOIN organizations AS o ON r.workshop_id = o.id
-- The spans open right now (a call live, a mechanic available) of this workshop, within the
-- period and up to now.
LEFT JOIN LATERAL (
    SELECT
        sum(extract(EPOCH FROM least(now(), p.t1) - greatest(op.started_at, p.t0))) FILTER (WHERE op.is_live)
            AS live_seconds,
        sum(extract(EPOCH FROM least(now(), p.t1) - greatest(op.started_at, p.t0))) FILTER (WHERE NOT op.is_live)
            AS available_seconds
    FROM (
        SELECT
            TRUE AS is_live,
            s.started_at
        FROM sessions AS s
        WHERE s.workshop_id = r.workshop_id AND s.started_at IS NOT NULL AND s.ended_at IS NULL
        UNION ALL
        SELECT
            FALSE AS is_live,
            a.started_at
        FROM mechanic_availability AS a
        WHERE a.workshop_id = r.workshop_id AND a.ended_at IS NULL
    ) AS op
    CROSS JOIN (
        VALUES (
            r.period_start::timestamp AT TIME ZONE 'UTC',
            (r.period_start + CASE r.period_grain
                WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days' ELSE interval '1 month'
            END) AT TIME ZONE 'UTC'
        )
    ) AS p (t0, t1)
    WHERE op.started_at < least(now(), p.t1) AND now() > p.t0
) AS x ON TRUE
WHERE r.sessions_served + r.preferred_sessions + r.preferred_requests + r.accepted_requests > 0;

COMMENT ON VIEW analytics.workshop_session_analytics IS
'BI contract: per workshop and period (period_grain day/week/month, UTC) sessions served, sessions and requests where '
'it was the preferred workshop, share of those requests it served itself, revenue, reviews, time to accept. One row per '
'(workshop_id, period_grain, period_start) with activity. Reads the rollups kept by ssr_private.refresh_analytics().';
COMMENT ON COLUMN analytics.workshop_session_analytics.workshop_id IS 'The workshop (organizations.id).';
COMMENT ON COLUMN analytics.workshop_session_analytics.workshop_name IS 'The workshop''s current name.';
COMMENT ON COLUMN analytics.workshop_session_analytics.period_grain IS
'day, week or month; weeks and months merge the days'' histograms (medians do not add up). Filter on one grain.';
COMMENT ON COLUMN analytics.workshop_session_analytics.period_start IS
'First day of the period in UTC: the day, the Monday of the ISO week, or the first of the month.';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_served IS
'Sessions created in the period and served by the workshop (sessions.workshop_id), any status.';
COMMENT ON COLUMN analytics.workshop_session_analytics.preferred_sessions IS
'Sessions created in the period whose customer chose this workshop (sessions.preferred_workshop_id).';
COMMENT ON COLUMN analytics.workshop_session_analytics.preferred_requests IS
'Session requests created in the period that named this workshop as preferred, any status.';
COMMENT ON COLUMN analytics.workshop_session_analytics.preferred_requests_closed IS
'Of preferred_requests, those decided by the marketplace: accepted (by anyone) or expired. '
'Excludes still pending and customer-cancelled requests.';
COMMENT ON COLUMN analytics.workshop_session_analytics.preferred_served_by_self IS
'Of preferred_requests, those accepted by a mechanic of this workshop.';
COMMENT ON COLUMN analytics.workshop_session_analytics.preferred_self_serve_share IS
'preferred_served_by_self / preferred_requests_closed, 0 to 1, 4 decimals; NULL when no preferred request was closed.';
COMMENT ON COLUMN analytics.workshop_session_analytics.revenue_minor IS
'Sum of sessions.amount_total_minor of the served sessions not cancelled or refunded, in minor units of '
'revenue_currency; 0 when none; NULL when the period mixes currencies.';
COMMENT ON COLUMN analytics.workshop_session_analytics.revenue_currency IS
'Lower-case ISO 4217 currency of revenue_minor; NULL when there was no revenue or several currencies.';
COMMENT ON COLUMN analytics.workshop_session_analytics.review_count IS 'Reviews of the sessions served in the period.';
COMMENT ON COLUMN analytics.workshop_session_analytics.avg_rating IS
'Average stars (1-5, 2 decimals) of those reviews; NULL without reviews. Raw average, not the directory''s shrunk score.';
COMMENT ON COLUMN analytics.workshop_session_analytics.accepted_requests IS
'Requests created in the period and accepted by a mechanic of this workshop (the sample of the accept times).';
COMMENT ON COLUMN analytics.workshop_session_analytics.median_accept_seconds IS
'Median of accepted_at - created_at in seconds over accepted_requests (percentile_cont 0.5 over the histogram, '
'within 0.5 % of the exact value); NULL when none.';
COMMENT ON COLUMN analytics.workshop_session_analytics.p90_accept_seconds IS
'90th percentile of accepted_at - created_at in seconds (percentile_cont 0.9 over the histogram); NULL when none.';

COMMENT ON COLUMN analytics.workshop_session_analytics.refunds IS
'Of preferred_sessions, those owing their customer a refund (nobody served them in time, or the customer cancelled '
'before anyone accepted), whatever the refund''s progress at Stripe (pending, succeeded or failed). Kept in the '
'rollup (a refund queues its session''s period).';
COMMENT ON COLUMN analytics.workshop_session_analytics.refund_rate IS
'refunds / preferred_sessions, 0 to 1, 4 decimals; NULL when no session named the workshop as preferred.';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_waiting IS
'Of sessions_served, those still waiting (accepted, the call not started yet).';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_live IS 'Of sessions_served, those live now.';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_completed IS 'Of sessions_served, those completed.';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_no_show IS
'Of sessions_served, those marked no-show (the customer did not come).';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_cancelled IS 'Of sessions_served, those cancelled.';
COMMENT ON COLUMN analytics.workshop_session_analytics.sessions_refunded IS 'Of sessions_served, those refunded.';
COMMENT ON COLUMN analytics.workshop_session_analytics.declines IS
'Session requests declined in the period by the workshop''s mechanics (session_request_declines, dated by declined_at).';
COMMENT ON COLUMN analytics.workshop_session_analytics.median_decline_seconds IS
'Median seconds from offer to decline over those declines (offered_at: creation, or the end of the hybrid window for '
'outsiders): percentile_cont 0.5 over the histogram of 3 significant digits, within 0.5 % of the exact value; NULL '
'when none.';
COMMENT ON COLUMN analytics.workshop_session_analytics.live_minutes IS
'Minutes of calls (started_at to ended_at, up to now while live) of the sessions the workshop served, falling in the '
'period; 2 decimals.';
COMMENT ON COLUMN analytics.workshop_session_analytics.available_minutes IS
'Minutes its mechanics were available for work in the period (mechanic_availability, kept since presence history '
'began; open intervals up to now); 2 decimals.';
COMMENT ON COLUMN analytics.workshop_session_analytics.utilisation IS
'live_minutes / available_minutes, 4 decimals; NULL when nobody was available. Reported on the rows of the rollup '
'(periods with session or request activity).';

GRANT SELECT ON analytics.workshop_session_analytics TO analytics;
