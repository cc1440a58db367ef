-- BI contract: per workshop and period, at three grains.
-- One row per (workshop_id, period_grain, period_start) that had any activity.
-- Periods are UTC: day, ISO week (starting Monday) and calendar month. Sessions,
-- revenue and reviews are dated by sessions.created_at; request figures and times to
-- accept by session_requests.created_at.
-- Reads analytics_workshop_rollup, kept by refresh_analytics() (the worker runs it
-- every few seconds): a read costs the rows it returns, whatever the history. Medians
-- and p90 come from the rollup's histogram of times to accept (buckets of 3
-- significant digits: within 0.5 % of the exact percentile_cont). To add a figure: a
-- column in the rollup, its count in analytics_workshop_recount, its sum in
-- analytics_workshop_merge, and here.
-- The refund columns are read from refunds (one row per refunded purchase, a small table)
-- at query time, against the preferred workshop of the session refunded.
-- The figures of the session's life after accept (sessions per status, declines, live and
-- available minutes, utilisation) are computed live from the base tables for the rows the
-- rollup has (periods with session or request activity), not yet kept in the rollup: its
-- tables are created by a migration numbered after this feature's.
CREATE OR REPLACE VIEW analytics.workshop_session_analytics AS
WITH refunded AS (
    SELECT
        s.preferred_workshop_id AS workshop_id,
        g.period_grain,
        g.period_start,
        count(*) AS refunds
    FROM public.refunds AS rf
    INNER JOIN public.sessions AS s ON rf.session_id = s.id
    CROSS JOIN
        LATERAL (
            VALUES
            ('day', date_trunc('day', s.created_at AT TIME ZONE 'UTC')::date),
            ('week', date_trunc('week', s.created_at AT TIME ZONE 'UTC')::date),
            ('month', date_trunc('month', s.created_at AT TIME ZONE 'UTC')::date)
        ) AS g (period_grain, period_start)
    WHERE s.preferred_workshop_id IS NOT NULL
    GROUP BY s.preferred_workshop_id, g.period_grain, g.period_start
),

spans AS (
    -- Time on calls (started_at to ended_at, or now while live) of the sessions a workshop
    -- served, and time its mechanics were available (mechanic_availability, open intervals
    -- up to now), in UTC.
    SELECT
        s.workshop_id,
        TRUE AS is_live,
        s.started_at AT TIME ZONE 'UTC' AS t0,
        coalesce(s.ended_at, greatest(now(), s.started_at)) AT TIME ZONE 'UTC' AS t1
    FROM sessions AS s
    WHERE s.workshop_id IS NOT NULL AND s.started_at IS NOT NULL
    UNION ALL
    SELECT
        a.workshop_id,
        FALSE AS is_live,
        a.started_at AT TIME ZONE 'UTC' AS t0,
        coalesce(a.ended_at, greatest(now(), a.started_at)) AT TIME ZONE 'UTC' AS t1
    FROM mechanic_availability AS a
    WHERE a.workshop_id IS NOT NULL
),

-- The spans cut at UTC day boundaries: days add up exactly to weeks and months.
span_days AS (
    SELECT
        sp.workshop_id,
        sp.is_live,
        dd.day,
        extract(EPOCH FROM least(sp.t1, dd.day + interval '1 day') - greatest(sp.t0, dd.day))::double precision
            AS seconds
    FROM spans AS sp
    CROSS JOIN LATERAL generate_series(date_trunc('day', sp.t0), sp.t1, interval '1 day') AS dd (day)
    WHERE dd.day < sp.t1
),

-- Facts of the figures added for the session's life after accept, computed live from the
-- base tables (the rollup keeps the other figures): sessions served per status, declines
-- and their time from offer, and the live / available seconds per UTC day.
facts AS (
    SELECT
        s.workshop_id,
        s.created_at,
        s.status AS session_status,
        NULL::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
    FROM sessions AS s
    WHERE s.workshop_id IS NOT NULL

    UNION ALL

    SELECT
        d.workshop_id,
        d.declined_at AS created_at,
        NULL::text AS session_status,
        extract(EPOCH FROM d.declined_at - d.offered_at)::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
    FROM session_request_declines AS d
    WHERE d.workshop_id IS NOT NULL

    UNION ALL

    SELECT
        sd.workshop_id,
        (sd.day AT TIME ZONE 'UTC') AS created_at,
        NULL::text AS session_status,
        NULL::double precision AS decline_seconds,
        CASE WHEN sd.is_live THEN sd.seconds ELSE 0 END AS live_seconds,
        CASE WHEN sd.is_live THEN 0 ELSE sd.seconds END AS available_seconds
    FROM span_days AS sd
),

-- One copy of each fact per grain; a BI filter on workshop_id and period_grain reaches the
-- index scans above through the join below.
lifecycle AS (
    SELECT
        f.workshop_id,
        g.period_grain,
        g.period_start,
        count(*) FILTER (WHERE f.session_status = 'waiting') AS sessions_waiting,
        count(*) FILTER (WHERE f.session_status = 'live') AS sessions_live,
        count(*) FILTER (WHERE f.session_status = 'completed') AS sessions_completed,
        count(*) FILTER (WHERE f.session_status = 'no_show') AS sessions_no_show,
        count(*) FILTER (WHERE f.session_status = 'cancelled') AS sessions_cancelled,
        count(*) FILTER (WHERE f.session_status = 'refunded') AS sessions_refunded,
        count(f.decline_seconds) AS declines,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.decline_seconds) AS median_decline_seconds,
        sum(f.live_seconds) AS live_seconds,
        sum(f.available_seconds) AS available_seconds
    FROM facts AS f
    CROSS JOIN
        LATERAL (
            VALUES
            ('day', date_trunc('day', f.created_at AT TIME ZONE 'UTC')::date),
            ('week', date_trunc('week', f.created_at AT TIME ZONE 'UTC')::date),
            ('month', date_trunc('month', f.created_at AT TIME ZONE 'UTC')::date)
        ) AS g (period_grain, period_start)
    GROUP BY f.workshop_id, g.period_grain, g.period_start
)

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
    coalesce(f.refunds, 0) AS refunds,
    round(coalesce(f.refunds, 0)::numeric / nullif(r.preferred_sessions, 0), 4) AS refund_rate,
    coalesce(l.sessions_waiting, 0) AS sessions_waiting,
    coalesce(l.sessions_live, 0) AS sessions_live,
    coalesce(l.sessions_completed, 0) AS sessions_completed,
    coalesce(l.sessions_no_show, 0) AS sessions_no_show,
    coalesce(l.sessions_cancelled, 0) AS sessions_cancelled,
    coalesce(l.sessions_refunded, 0) AS sessions_refunded,
    coalesce(l.declines, 0) AS declines,
    l.median_decline_seconds,
    round((coalesce(l.live_seconds, 0) / 60)::numeric, 2) AS live_minutes,
    round((coalesce(l.available_seconds, 0) / 60)::numeric, 2) AS available_minutes,
    round((l.live_seconds / nullif(l.available_seconds, 0))::numeric, 4) AS utilisation
FROM analytics_workshop_rollup AS r
INNER JOIN organizations AS o ON r.workshop_id = o.id
LEFT JOIN refunded AS f
    ON r.workshop_id = f.workshop_id AND r.period_grain = f.period_grain AND r.period_start = f.period_start
LEFT JOIN lifecycle AS l
    ON
        r.workshop_id = l.workshop_id
        AND r.period_grain = l.period_grain
        AND r.period_start = l.period_start;

COMMENT ON VIEW analytics.workshop_session_analytics IS
'BI contract: per workshop and period (period_grain day/week/month, UTC) sessions served, sessions and requests where '
'it was the preferred workshop, share of those requests it served itself, revenue, reviews, time to accept. One row per '
'(workshop_id, period_grain, period_start) with activity. Reads the rollups kept by refresh_analytics().';
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
'before anyone accepted), whatever the refund''s progress at Stripe (pending, succeeded or failed). Read from refunds '
'at query time.';
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
'outsiders); NULL when none.';
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
