-- BI contract (issue 5): per workshop and period, at three grains.
-- One row per (workshop_id, period_grain, period_start) that had any activity.
-- Periods are UTC: day, ISO week (starting Monday) and calendar month. Medians and
-- p90 cannot be rolled up from days, so every grain is computed from the raw rows.
-- Sessions, revenue, reviews and sessions per status are dated by sessions.created_at;
-- request figures and times to accept by session_requests.created_at; declines by
-- declined_at; live and available minutes are cut at UTC day boundaries.
-- Reads the full history: at millions of sessions use workshop_session_analytics_mv.
CREATE OR REPLACE VIEW workshop_session_analytics AS
WITH spans AS (
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

facts AS (
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
        NULL::double precision AS accept_seconds,
        s.status AS session_status,
        NULL::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
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
        NULL::double precision AS accept_seconds,
        NULL::text AS session_status,
        NULL::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
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
        NULL::double precision AS accept_seconds,
        NULL::text AS session_status,
        NULL::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
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
        extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision AS accept_seconds,
        NULL::text AS session_status,
        NULL::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
    FROM session_requests AS sr
    WHERE sr.status = 'accepted' AND sr.workshop_id IS NOT NULL

    UNION ALL

    -- Declines by the workshop's mechanics, dated by the decline: time from offer to decline.
    SELECT
        d.workshop_id,
        d.declined_at AS created_at,
        0 AS served,
        0 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        NULL::double precision AS accept_seconds,
        NULL::text AS session_status,
        extract(EPOCH FROM d.declined_at - d.offered_at)::double precision AS decline_seconds,
        0::double precision AS live_seconds,
        0::double precision AS available_seconds
    FROM session_request_declines AS d
    WHERE d.workshop_id IS NOT NULL

    UNION ALL

    -- Time on calls and time available, per UTC day (span_days below).
    SELECT
        sd.workshop_id,
        (sd.day AT TIME ZONE 'UTC') AS created_at,
        0 AS served,
        0 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        NULL::double precision AS accept_seconds,
        NULL::text AS session_status,
        NULL::double precision AS decline_seconds,
        CASE WHEN sd.is_live THEN sd.seconds ELSE 0 END AS live_seconds,
        CASE WHEN sd.is_live THEN 0 ELSE sd.seconds END AS available_seconds
    FROM span_days AS sd
),

-- One copy of each fact per grain. A BI filter on workshop_id and period_grain is
-- pushed down to the index scans of the branches above and to this list.
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
        percentile_cont(0.9) WITHIN GROUP (ORDER BY f.accept_seconds) AS p90_accept_seconds,
        count(*) FILTER (WHERE f.served = 1 AND f.session_status = 'waiting') AS sessions_waiting,
        count(*) FILTER (WHERE f.served = 1 AND f.session_status = 'live') AS sessions_live,
        count(*) FILTER (WHERE f.served = 1 AND f.session_status = 'completed') AS sessions_completed,
        count(*) FILTER (WHERE f.served = 1 AND f.session_status = 'no_show') AS sessions_no_show,
        count(*) FILTER (WHERE f.served = 1 AND f.session_status = 'cancelled') AS sessions_cancelled,
        count(*) FILTER (WHERE f.served = 1 AND f.session_status = 'refunded') AS sessions_refunded,
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
    a.p90_accept_seconds,
    a.sessions_waiting,
    a.sessions_live,
    a.sessions_completed,
    a.sessions_no_show,
    a.sessions_cancelled,
    a.sessions_refunded,
    a.declines,
    a.median_decline_seconds,
    round((a.live_seconds / 60)::numeric, 2) AS live_minutes,
    round((a.available_seconds / 60)::numeric, 2) AS available_minutes,
    round((a.live_seconds / nullif(a.available_seconds, 0))::numeric, 4) AS utilisation
FROM agg AS a
INNER JOIN organizations AS o ON a.workshop_id = o.id;

COMMENT ON VIEW workshop_session_analytics IS
'BI contract: per workshop and period (period_grain day/week/month, UTC) sessions served, sessions and requests where '
'it was the preferred workshop, share of those requests it served itself, revenue, reviews, time to accept. One row per '
'(workshop_id, period_grain, period_start) with activity. Live; workshop_session_analytics_mv is the materialized copy.';
COMMENT ON COLUMN workshop_session_analytics.workshop_id IS 'The workshop (organizations.id).';
COMMENT ON COLUMN workshop_session_analytics.workshop_name IS 'The workshop''s current name.';
COMMENT ON COLUMN workshop_session_analytics.period_grain IS
'day, week or month: each grain is computed from raw rows (medians cannot be rolled up). Filter on one grain.';
COMMENT ON COLUMN workshop_session_analytics.period_start IS
'First day of the period in UTC: the day, the Monday of the ISO week, or the first of the month.';
COMMENT ON COLUMN workshop_session_analytics.sessions_served IS
'Sessions created in the period and served by the workshop (sessions.workshop_id), any status.';
COMMENT ON COLUMN workshop_session_analytics.preferred_sessions IS
'Sessions created in the period whose customer chose this workshop (sessions.preferred_workshop_id).';
COMMENT ON COLUMN workshop_session_analytics.preferred_requests IS
'Session requests created in the period that named this workshop as preferred, any status.';
COMMENT ON COLUMN workshop_session_analytics.preferred_requests_closed IS
'Of preferred_requests, those decided by the marketplace: accepted (by anyone) or expired. '
'Excludes still pending and customer-cancelled requests.';
COMMENT ON COLUMN workshop_session_analytics.preferred_served_by_self IS
'Of preferred_requests, those accepted by a mechanic of this workshop.';
COMMENT ON COLUMN workshop_session_analytics.preferred_self_serve_share IS
'preferred_served_by_self / preferred_requests_closed, 0 to 1, 4 decimals; NULL when no preferred request was closed.';
COMMENT ON COLUMN workshop_session_analytics.revenue_minor IS
'Sum of sessions.amount_total_minor of the served sessions not cancelled or refunded, in minor units of '
'revenue_currency; 0 when none; NULL when the period mixes currencies.';
COMMENT ON COLUMN workshop_session_analytics.revenue_currency IS
'Lower-case ISO 4217 currency of revenue_minor; NULL when there was no revenue or several currencies.';
COMMENT ON COLUMN workshop_session_analytics.review_count IS 'Reviews of the sessions served in the period.';
COMMENT ON COLUMN workshop_session_analytics.avg_rating IS
'Average stars (1-5, 2 decimals) of those reviews; NULL without reviews. Raw average, not the directory''s shrunk score.';
COMMENT ON COLUMN workshop_session_analytics.accepted_requests IS
'Requests created in the period and accepted by a mechanic of this workshop (the sample of the accept times).';
COMMENT ON COLUMN workshop_session_analytics.median_accept_seconds IS
'Median of accepted_at - created_at in seconds over accepted_requests (percentile_cont 0.5); NULL when none.';
COMMENT ON COLUMN workshop_session_analytics.p90_accept_seconds IS
'90th percentile of accepted_at - created_at in seconds (percentile_cont 0.9); NULL when none.';

COMMENT ON COLUMN workshop_session_analytics.sessions_waiting IS
'Of sessions_served, those still waiting (accepted, the call not started yet).';
COMMENT ON COLUMN workshop_session_analytics.sessions_live IS 'Of sessions_served, those live now.';
COMMENT ON COLUMN workshop_session_analytics.sessions_completed IS 'Of sessions_served, those completed.';
COMMENT ON COLUMN workshop_session_analytics.sessions_no_show IS
'Of sessions_served, those marked no-show (the customer did not come).';
COMMENT ON COLUMN workshop_session_analytics.sessions_cancelled IS 'Of sessions_served, those cancelled.';
COMMENT ON COLUMN workshop_session_analytics.sessions_refunded IS 'Of sessions_served, those refunded.';
COMMENT ON COLUMN workshop_session_analytics.declines IS
'Session requests declined in the period by the workshop''s mechanics (session_request_declines, dated by declined_at).';
COMMENT ON COLUMN workshop_session_analytics.median_decline_seconds IS
'Median seconds from offer to decline over those declines (offered_at: creation, or the end of the hybrid window for '
'outsiders); NULL when none.';
COMMENT ON COLUMN workshop_session_analytics.live_minutes IS
'Minutes of calls (started_at to ended_at, up to now while live) of the sessions the workshop served, falling in the '
'period; 2 decimals.';
COMMENT ON COLUMN workshop_session_analytics.available_minutes IS
'Minutes its mechanics were available for work in the period (mechanic_availability, kept since presence history '
'began; open intervals up to now); 2 decimals.';
COMMENT ON COLUMN workshop_session_analytics.utilisation IS
'live_minutes / available_minutes, 4 decimals; NULL when nobody was available. Reported on the periods that have '
'session, request, decline or presence activity.';

GRANT SELECT ON workshop_session_analytics TO analytics;
