-- analytics_workshop_recount: recounts the rows of the grains p_grains (day, week, month)
-- of analytics_workshop_rollup for the given workshops and the periods containing UTC days
-- p_first_day..p_last_day from the base tables (sessions, reviews, session_requests,
-- refunds, session_request_declines) and the closed spans cut at days
-- (analytics_span_days), replacing what was there; periods without activity lose their row. Returns the number
-- of rows written. Internal: refresh_analytics() recounts the touched workshop-days (and
-- merges weeks and months from them, analytics_workshop_merge); analytics_rollups_rebuild()
-- recounts all three grains in one pass over the base tables. Errors: p_grains empty or
-- with another value than day, week, month: SR400 (COLUMN grain); NULL days or workshops
-- recount nothing.
-- The figures follow the BI contract of workshop_session_analytics: sessions, revenue
-- and reviews dated by sessions.created_at (so are sessions per status, and refunds at the
-- preferred workshop), requests by session_requests.created_at, declines by declined_at,
-- live and available seconds by the UTC day they fall in; times to accept and to decline
-- kept as histograms (analytics_bucket) with percentile_cont over them.
DROP FUNCTION IF EXISTS ssr_private.analytics_workshop_recount(date, date, uuid[]);
DROP FUNCTION IF EXISTS ssr_private.analytics_workshop_recount(text, date, date, uuid[]);

CREATE OR REPLACE FUNCTION ssr_private.analytics_workshop_recount(
    p_grains text[],
    p_first_day date,
    p_last_day date,
    p_workshops uuid[]
) RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_from timestamptz;
    v_to timestamptz;
    v_rows integer;
BEGIN
    IF cardinality(p_grains) IS NULL OR cardinality(p_grains) = 0
        OR NOT p_grains <@ ARRAY['day', 'week', 'month'] THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'grains must be day, week or month', COLUMN = 'grain';
    END IF;
    SELECT
        min(date_trunc(g.grain, p_first_day::timestamp) AT TIME ZONE 'UTC'),
        max((date_trunc(g.grain, p_last_day::timestamp) + ('1 ' || g.grain)::interval) AT TIME ZONE 'UTC')
    INTO v_from, v_to
    FROM unnest(p_grains) AS g (grain);
    DELETE FROM analytics_workshop_rollup AS r
    USING unnest(p_grains) AS g (grain)
    WHERE
        r.period_grain = g.grain
        AND r.workshop_id = ANY(p_workshops)
        AND r.period_start >= date_trunc(g.grain, p_first_day::timestamp)::date
        AND r.period_start < (date_trunc(g.grain, p_last_day::timestamp) + ('1 ' || g.grain)::interval)::date;

    WITH facts AS (
        -- Sessions served by the workshop (with their review, if any, and their status).
        SELECT
            s.workshop_id,
            s.created_at,
            1 AS served,
            0 AS preferred_session,
            0 AS preferred_request,
            0 AS preferred_closed,
            0 AS preferred_self,
            CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.amount_total_minor END AS revenue_minor,
            CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.currency END AS revenue_currency,
            r.rating,
            NULL::double precision AS accept_bucket,
            s.status AS session_status,
            0::bigint AS refunds,
            NULL::double precision AS decline_bucket,
            0::numeric AS live_seconds,
            0::numeric AS available_seconds
        FROM sessions AS s
        LEFT JOIN reviews AS r ON s.id = r.session_id
        WHERE s.workshop_id = ANY(p_workshops) AND s.created_at >= v_from AND s.created_at < v_to

        UNION ALL

        -- Sessions whose customer chose the workshop (with their refunds).
        SELECT
            s.preferred_workshop_id, s.created_at, 0, 1, 0, 0, 0, NULL, NULL, NULL, NULL, NULL,
            (SELECT count(*) FROM refunds AS rf WHERE rf.session_id = s.id), NULL, 0, 0
        FROM sessions AS s
        WHERE s.preferred_workshop_id = ANY(p_workshops) AND s.created_at >= v_from AND s.created_at < v_to

        UNION ALL

        -- Requests that named the workshop as preferred.
        SELECT
            sr.preferred_workshop_id,
            sr.created_at,
            0,
            0,
            1,
            (sr.status IN ('accepted', 'expired'))::integer,
            coalesce(sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id, FALSE)::integer,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            0,
            NULL,
            0,
            0
        FROM session_requests AS sr
        WHERE sr.preferred_workshop_id = ANY(p_workshops) AND sr.created_at >= v_from AND sr.created_at < v_to

        UNION ALL

        -- Requests the workshop's mechanics accepted: time to accept.
        SELECT
            sr.workshop_id,
            sr.created_at,
            0,
            0,
            0,
            0,
            0,
            NULL,
            NULL,
            NULL,
            ssr_private.analytics_bucket(extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision),
            NULL,
            0,
            NULL,
            0,
            0
        FROM session_requests AS sr
        WHERE
            sr.status = 'accepted'
            AND sr.workshop_id = ANY(p_workshops) AND sr.created_at >= v_from AND sr.created_at < v_to

        UNION ALL

        -- Declines by the workshop's mechanics, dated by declined_at: time from offer to decline.
        SELECT
            d.workshop_id,
            d.declined_at,
            0,
            0,
            0,
            0,
            0,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            0,
            ssr_private.analytics_bucket(extract(EPOCH FROM d.declined_at - d.offered_at)::double precision),
            0,
            0
        FROM session_request_declines AS d
        WHERE d.workshop_id = ANY(p_workshops) AND d.declined_at >= v_from AND d.declined_at < v_to

        UNION ALL

        -- Closed calls and availability intervals, cut at UTC days (analytics_span_days).
        SELECT
            p.workshop_id,
            p.day::timestamp AT TIME ZONE 'UTC',
            0,
            0,
            0,
            0,
            0,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            0,
            NULL,
            CASE WHEN p.source = 'session' THEN p.seconds ELSE 0 END,
            CASE WHEN p.source = 'availability' THEN p.seconds ELSE 0 END
        FROM analytics_span_days AS p
        WHERE
            p.workshop_id = ANY(p_workshops)
            AND p.day >= (v_from AT TIME ZONE 'UTC')::date AND p.day < (v_to AT TIME ZONE 'UTC')::date
    ),

    grains AS (
        SELECT
            g.grain,
            date_trunc(g.grain, p_first_day::timestamp) AT TIME ZONE 'UTC' AS t0,
            (date_trunc(g.grain, p_last_day::timestamp) + ('1 ' || g.grain)::interval) AT TIME ZONE 'UTC' AS t1
        FROM unnest(p_grains) AS g (grain)
    ),

    -- One copy of each fact per grain whose periods it falls in.
    dated AS (
        SELECT
            f.*,
            g.grain,
            date_trunc(g.grain, f.created_at AT TIME ZONE 'UTC')::date AS day
        FROM facts AS f
        INNER JOIN grains AS g ON f.created_at >= g.t0 AND f.created_at < g.t1
    ),

    hist AS (
        SELECT
            h.workshop_id,
            h.grain,
            h.day,
            array_agg(h.accept_bucket ORDER BY h.accept_bucket) AS buckets,
            array_agg(h.n ORDER BY h.accept_bucket) AS counts
        FROM (
            SELECT d.workshop_id, d.grain, d.day, d.accept_bucket, count(*)::integer AS n
            FROM dated AS d
            WHERE d.accept_bucket IS NOT NULL
            GROUP BY d.workshop_id, d.grain, d.day, d.accept_bucket
        ) AS h
        GROUP BY h.workshop_id, h.grain, h.day
    ),

    decline_hist AS (
        SELECT
            h.workshop_id,
            h.grain,
            h.day,
            array_agg(h.decline_bucket ORDER BY h.decline_bucket) AS buckets,
            array_agg(h.n ORDER BY h.decline_bucket) AS counts
        FROM (
            SELECT d.workshop_id, d.grain, d.day, d.decline_bucket, count(*)::integer AS n
            FROM dated AS d
            WHERE d.decline_bucket IS NOT NULL
            GROUP BY d.workshop_id, d.grain, d.day, d.decline_bucket
        ) AS h
        GROUP BY h.workshop_id, h.grain, h.day
    ),

    agg AS (
        SELECT
            d.workshop_id,
            d.grain,
            d.day,
            sum(d.served) AS sessions_served,
            sum(d.preferred_session) AS preferred_sessions,
            sum(d.preferred_request) AS preferred_requests,
            sum(d.preferred_closed) AS preferred_requests_closed,
            sum(d.preferred_self) AS preferred_served_by_self,
            coalesce(sum(d.revenue_minor), 0) AS revenue_minor,
            -- lowest and highest currency: one element when single, two when mixed (no sort)
            array_remove(
                ARRAY[min(d.revenue_currency), nullif(max(d.revenue_currency), min(d.revenue_currency))], NULL
            ) AS revenue_currencies,
            count(d.rating) AS review_count,
            coalesce(sum(d.rating), 0) AS rating_sum,
            count(d.accept_bucket) AS accepted_requests,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY d.accept_bucket) AS median_accept_seconds,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY d.accept_bucket) AS p90_accept_seconds,
            count(*) FILTER (WHERE d.session_status = 'waiting') AS sessions_waiting,
            count(*) FILTER (WHERE d.session_status = 'live') AS sessions_live,
            count(*) FILTER (WHERE d.session_status = 'completed') AS sessions_completed,
            count(*) FILTER (WHERE d.session_status = 'no_show') AS sessions_no_show,
            count(*) FILTER (WHERE d.session_status = 'cancelled') AS sessions_cancelled,
            count(*) FILTER (WHERE d.session_status = 'refunded') AS sessions_refunded,
            sum(d.refunds) AS refunds,
            count(d.decline_bucket) AS declines,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY d.decline_bucket) AS median_decline_seconds,
            sum(d.live_seconds) AS live_seconds,
            sum(d.available_seconds) AS available_seconds
        FROM dated AS d
        GROUP BY d.workshop_id, d.grain, d.day
    )

    INSERT INTO analytics_workshop_rollup (
        workshop_id, period_grain, period_start, sessions_served, preferred_sessions, preferred_requests,
        preferred_requests_closed, preferred_served_by_self, revenue_minor, revenue_currencies, review_count,
        rating_sum, accepted_requests, accept_buckets, accept_counts, median_accept_seconds, p90_accept_seconds,
        sessions_waiting, sessions_live, sessions_completed, sessions_no_show, sessions_cancelled, sessions_refunded,
        refunds, declines, decline_buckets, decline_counts, median_decline_seconds, live_seconds, available_seconds
    )
    SELECT
        a.workshop_id,
        a.grain,
        a.day,
        a.sessions_served,
        a.preferred_sessions,
        a.preferred_requests,
        a.preferred_requests_closed,
        a.preferred_served_by_self,
        a.revenue_minor,
        a.revenue_currencies,
        a.review_count,
        a.rating_sum,
        a.accepted_requests,
        coalesce(h.buckets, '{}'),
        coalesce(h.counts, '{}'),
        a.median_accept_seconds,
        a.p90_accept_seconds,
        a.sessions_waiting,
        a.sessions_live,
        a.sessions_completed,
        a.sessions_no_show,
        a.sessions_cancelled,
        a.sessions_refunded,
        a.refunds,
        a.declines,
        coalesce(dh.buckets, '{}'),
        coalesce(dh.counts, '{}'),
        a.median_decline_seconds,
        a.live_seconds,
        a.available_seconds
    FROM agg AS a
    LEFT JOIN hist AS h ON a.workshop_id = h.workshop_id AND a.grain = h.grain AND a.day = h.day
    LEFT JOIN decline_hist AS dh ON a.workshop_id = dh.workshop_id AND a.grain = dh.grain AND a.day = dh.day;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_workshop_recount(text[], date, date, uuid[]) IS
'Internal: recounts the rows of some grains of analytics_workshop_rollup for these workshops and periods from the base '
'tables.';
REVOKE ALL ON FUNCTION ssr_private.analytics_workshop_recount(text[], date, date, uuid[]) FROM PUBLIC;
