-- analytics_workshop_merge: rebuilds the week or month rows (p_grain) of
-- analytics_workshop_rollup for the given workshops and the periods containing
-- p_first_day..p_last_day, by merging their day rows: counters add up, currencies
-- unite (lowest and highest), histograms (times to accept, to decline) add bucket by bucket, percentiles are percentile_cont over the
-- merged histogram. Returns the number of rows written. Internal: called by
-- refresh_analytics() and analytics_rollups_rebuild() after the day rows are recounted.
-- Errors: p_grain other than week or month raises SR400 (COLUMN grain).
CREATE OR REPLACE FUNCTION ssr_private.analytics_workshop_merge(
    p_grain text,
    p_first_day date,
    p_last_day date,
    p_workshops uuid[]
) RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_first date;
    v_end date;
    v_rows integer;
BEGIN
    IF p_grain IS NULL OR p_grain NOT IN ('week', 'month') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'grain must be week or month', COLUMN = 'grain';
    END IF;
    v_first := date_trunc(p_grain, p_first_day::timestamp)::date;
    v_end := (date_trunc(p_grain, p_last_day::timestamp) + make_interval(
        days => CASE WHEN p_grain = 'week' THEN 7 ELSE 0 END,
        months => CASE WHEN p_grain = 'month' THEN 1 ELSE 0 END
    ))::date;

    DELETE FROM analytics_workshop_rollup AS r
    WHERE
        r.period_grain = p_grain
        AND r.workshop_id = ANY(p_workshops)
        AND r.period_start >= v_first AND r.period_start < v_end;

    WITH days AS (
        SELECT
            r.*,
            date_trunc(p_grain, r.period_start::timestamp)::date AS merged_start
        FROM analytics_workshop_rollup AS r
        WHERE
            r.period_grain = 'day'
            AND r.workshop_id = ANY(p_workshops)
            AND r.period_start >= v_first AND r.period_start < v_end
    ),

    sums AS (
        SELECT
            d.workshop_id,
            d.merged_start,
            sum(d.sessions_served) AS sessions_served,
            sum(d.preferred_sessions) AS preferred_sessions,
            sum(d.preferred_requests) AS preferred_requests,
            sum(d.preferred_requests_closed) AS preferred_requests_closed,
            sum(d.preferred_served_by_self) AS preferred_served_by_self,
            sum(d.revenue_minor) AS revenue_minor,
            sum(d.review_count) AS review_count,
            sum(d.rating_sum) AS rating_sum,
            sum(d.accepted_requests) AS accepted_requests,
            sum(d.sessions_waiting) AS sessions_waiting,
            sum(d.sessions_live) AS sessions_live,
            sum(d.sessions_completed) AS sessions_completed,
            sum(d.sessions_no_show) AS sessions_no_show,
            sum(d.sessions_cancelled) AS sessions_cancelled,
            sum(d.sessions_refunded) AS sessions_refunded,
            sum(d.refunds) AS refunds,
            sum(d.declines) AS declines,
            sum(d.live_seconds) AS live_seconds,
            sum(d.available_seconds) AS available_seconds
        FROM days AS d
        GROUP BY d.workshop_id, d.merged_start
    ),

    currencies AS (
        SELECT
            d.workshop_id,
            d.merged_start,
            array_remove(ARRAY[min(c.currency), nullif(max(c.currency), min(c.currency))], NULL) AS revenue_currencies
        FROM days AS d
        CROSS JOIN LATERAL unnest(d.revenue_currencies) AS c (currency)
        GROUP BY d.workshop_id, d.merged_start
    ),

    buckets AS (
        SELECT d.workshop_id, d.merged_start, h.bucket, sum(h.n)::integer AS n
        FROM days AS d
        CROSS JOIN LATERAL unnest(d.accept_buckets, d.accept_counts) AS h (bucket, n)
        GROUP BY d.workshop_id, d.merged_start, h.bucket
    ),

    hist AS (
        SELECT
            b.workshop_id,
            b.merged_start,
            array_agg(b.bucket ORDER BY b.bucket) AS buckets,
            array_agg(b.n ORDER BY b.bucket) AS counts
        FROM buckets AS b
        GROUP BY b.workshop_id, b.merged_start
    ),

    decline_buckets AS (
        SELECT d.workshop_id, d.merged_start, h.bucket, sum(h.n)::integer AS n
        FROM days AS d
        CROSS JOIN LATERAL unnest(d.decline_buckets, d.decline_counts) AS h (bucket, n)
        GROUP BY d.workshop_id, d.merged_start, h.bucket
    ),

    decline_hist AS (
        SELECT
            b.workshop_id,
            b.merged_start,
            array_agg(b.bucket ORDER BY b.bucket) AS buckets,
            array_agg(b.n ORDER BY b.bucket) AS counts
        FROM decline_buckets AS b
        GROUP BY b.workshop_id, b.merged_start
    ),

    decline_pct AS (
        SELECT
            b.workshop_id,
            b.merged_start,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY b.bucket) AS median_decline_seconds
        FROM decline_buckets AS b
        CROSS JOIN LATERAL generate_series(1, b.n) AS copies (i)
        GROUP BY b.workshop_id, b.merged_start
    ),

    pct AS (
        SELECT
            b.workshop_id,
            b.merged_start,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY b.bucket) AS median_accept_seconds,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY b.bucket) AS p90_accept_seconds
        FROM buckets AS b
        CROSS JOIN LATERAL generate_series(1, b.n) AS copies (i)
        GROUP BY b.workshop_id, b.merged_start
    )

    INSERT INTO analytics_workshop_rollup (
        workshop_id, period_grain, period_start, sessions_served, preferred_sessions, preferred_requests,
        preferred_requests_closed, preferred_served_by_self, revenue_minor, revenue_currencies, review_count,
        rating_sum, accepted_requests, accept_buckets, accept_counts, median_accept_seconds, p90_accept_seconds,
        sessions_waiting, sessions_live, sessions_completed, sessions_no_show, sessions_cancelled, sessions_refunded,
        refunds, declines, decline_buckets, decline_counts, median_decline_seconds, live_seconds, available_seconds
    )
    SELECT
        s.workshop_id,
        p_grain,
        s.merged_start,
        s.sessions_served,
        s.preferred_sessions,
        s.preferred_requests,
        s.preferred_requests_closed,
        s.preferred_served_by_self,
        s.revenue_minor,
        coalesce(c.revenue_currencies, '{}'),
        s.review_count,
        s.rating_sum,
        s.accepted_requests,
        coalesce(h.buckets, '{}'),
        coalesce(h.counts, '{}'),
        p.median_accept_seconds,
        p.p90_accept_seconds,
        s.sessions_waiting,
        s.sessions_live,
        s.sessions_completed,
        s.sessions_no_show,
        s.sessions_cancelled,
        s.sessions_refunded,
        s.refunds,
        s.declines,
        coalesce(dh.buckets, '{}'),
        coalesce(dh.counts, '{}'),
        dp.median_decline_seconds,
        s.live_seconds,
        s.available_seconds
    FROM sums AS s
    LEFT JOIN currencies AS c ON s.workshop_id = c.workshop_id AND s.merged_start = c.merged_start
    LEFT JOIN hist AS h ON s.workshop_id = h.workshop_id AND s.merged_start = h.merged_start
    LEFT JOIN pct AS p ON s.workshop_id = p.workshop_id AND s.merged_start = p.merged_start
    LEFT JOIN decline_hist AS dh ON s.workshop_id = dh.workshop_id AND s.merged_start = dh.merged_start
    LEFT JOIN decline_pct AS dp ON s.workshop_id = dp.workshop_id AND s.merged_start = dp.merged_start;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_workshop_merge(text, date, date, uuid[]) IS
'Internal: rebuilds week or month rows of analytics_workshop_rollup by merging their day rows (histograms included).';
REVOKE ALL ON FUNCTION ssr_private.analytics_workshop_merge(text, date, date, uuid[]) FROM PUBLIC;
