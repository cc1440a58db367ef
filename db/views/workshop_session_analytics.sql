-- BI contract (issue 5): per workshop and period, at three grains.
-- One row per (workshop_id, period_grain, period_start) that had any activity.
-- Periods are UTC: day, ISO week (starting Monday) and calendar month. Medians and
-- p90 cannot be rolled up from days, so every grain is computed from the raw rows.
-- Sessions, revenue and reviews are dated by sessions.created_at; request figures
-- and times to accept by session_requests.created_at.
-- Reads the full history: at millions of sessions use workshop_session_analytics_mv.
CREATE OR REPLACE VIEW analytics.workshop_session_analytics AS
WITH facts AS (
    -- Sessions served by the workshop (with their review, if any).
    SELECT
        s.workshop_id,
        s.created_at,
        1 AS served,
        0 AS preferred_session,
        CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.amount_total_minor END AS revenue_minor,
        CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.currency END AS revenue_currency,
        r.rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        NULL::double precision AS accept_seconds
    FROM sessions AS s
    LEFT JOIN reviews AS r ON s.id = r.session_id
    WHERE s.workshop_id IS NOT NULL

    UNION ALL

    -- Sessions whose customer chose the workshop.
    SELECT
        s.preferred_workshop_id AS workshop_id,
        s.created_at,
        0 AS served,
        1 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        NULL::double precision AS accept_seconds
    FROM sessions AS s
    WHERE s.preferred_workshop_id IS NOT NULL

    UNION ALL

    -- Requests that named the workshop as preferred.
    SELECT
        sr.preferred_workshop_id AS workshop_id,
        sr.created_at,
        0 AS served,
        0 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        1 AS preferred_request,
        (sr.status IN ('accepted', 'expired'))::integer AS preferred_closed,
        (sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id)::integer AS preferred_self,
        NULL::double precision AS accept_seconds
    FROM session_requests AS sr
    WHERE sr.preferred_workshop_id IS NOT NULL

    UNION ALL

    -- Requests the workshop's mechanics accepted: time to accept.
    SELECT
        sr.workshop_id,
        sr.created_at,
        0 AS served,
        0 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision AS accept_seconds
    FROM session_requests AS sr
    WHERE sr.status = 'accepted' AND sr.workshop_id IS NOT NULL
),

-- One copy of each fact per grain. A BI filter on workshop_id and period_grain is
-- pushed down to the index scans of the four branches above and to this list.
agg AS (
    SELECT
        f.workshop_id,
        g.period_grain,
        g.period_start,
        sum(f.served) AS sessions_served,
        sum(f.preferred_session) AS preferred_sessions,
        sum(f.preferred_request) AS preferred_requests,
        sum(f.preferred_closed) AS preferred_requests_closed,
        sum(f.preferred_self) AS preferred_served_by_self,
        count(DISTINCT f.revenue_currency) AS currencies,
        min(f.revenue_currency) AS revenue_currency,
        coalesce(sum(f.revenue_minor), 0) AS revenue_minor,
        count(f.rating) AS review_count,
        avg(f.rating) AS avg_rating,
        count(f.accept_seconds) AS accepted_requests,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.accept_seconds) AS median_accept_seconds,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY f.accept_seconds) AS p90_accept_seconds
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
    a.workshop_id,
    o.name AS workshop_name,
    a.period_grain,
    a.period_start,
    a.sessions_served,
    a.preferred_sessions,
    a.preferred_requests,
    a.preferred_requests_closed,
    a.preferred_served_by_self,
    round(a.preferred_served_by_self::numeric / nullif(a.preferred_requests_closed, 0), 4)
        AS preferred_self_serve_share,
    CASE WHEN a.currencies <= 1 THEN a.revenue_minor END AS revenue_minor,
    CASE WHEN a.currencies = 1 THEN a.revenue_currency END AS revenue_currency,
    a.review_count,
    round(a.avg_rating, 2) AS avg_rating,
    a.accepted_requests,
    a.median_accept_seconds,
    a.p90_accept_seconds
FROM agg AS a
INNER JOIN organizations AS o ON a.workshop_id = o.id;

COMMENT ON VIEW analytics.workshop_session_analytics IS
'BI contract: per workshop and period (period_grain day/week/month, UTC) sessions served, sessions and requests where '
'it was the preferred workshop, share of those requests it served itself, revenue, reviews, time to accept. One row per '
'(workshop_id, period_grain, period_start) with activity. Live; analytics.workshop_session_analytics_mv is the materialized copy.';
COMMENT ON COLUMN analytics.workshop_session_analytics.workshop_id IS 'The workshop (organizations.id).';
COMMENT ON COLUMN analytics.workshop_session_analytics.workshop_name IS 'The workshop''s current name.';
COMMENT ON COLUMN analytics.workshop_session_analytics.period_grain IS
'day, week or month: each grain is computed from raw rows (medians cannot be rolled up). Filter on one grain.';
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
'Median of accepted_at - created_at in seconds over accepted_requests (percentile_cont 0.5); NULL when none.';
COMMENT ON COLUMN analytics.workshop_session_analytics.p90_accept_seconds IS
'90th percentile of accepted_at - created_at in seconds (percentile_cont 0.9); NULL when none.';

GRANT SELECT ON analytics.workshop_session_analytics TO analytics;
