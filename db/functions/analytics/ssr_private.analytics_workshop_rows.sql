-- analytics_workshop_rows: THE figures of analytics_workshop_rollup, in one place: the rows
-- of the grains p_grains (day, week, month) for the workshops p_workshops and the periods
-- containing UTC days p_first_day..p_last_day, as they should be now. Writes nothing:
-- analytics_workshop_recount and analytics_workshop_merge replace the stored rows with it.
-- Inputs: p_from_days FALSE counts the base tables (sessions, reviews, session_requests,
-- refunds, session_request_declines) and the closed spans cut at days (analytics_span_days);
-- TRUE merges the stored day rows of the rollup instead (weeks and months of
-- refresh_analytics: no base table read). Both feed the same facts, each a partial count
-- of one UTC day shaped like a rollup row (a base row counts 1 where it applies; a day row
-- brings its counts and its histograms), and one aggregate adds them up per period:
-- counters add, currencies unite (lowest and highest), histograms (times to accept, to
-- decline; buckets of analytics_bucket) add bucket by bucket, percentiles are
-- percentile_cont over the merged histogram. Periods without a fact have no row. No errors
-- (the callers check the grains); NULL days or workshops give no rows.
-- The figures follow the BI contract of workshop_session_analytics: sessions, revenue and
-- reviews dated by sessions.created_at (so are sessions per status, and refunds at the
-- preferred workshop), requests by session_requests.created_at, declines by declined_at,
-- live and available seconds by the UTC day they fall in.
-- PL/pgSQL (not an inlined SQL function) so that the period bounds are variables, index
-- bounds in a generic plan (refresh_analytics plans once per session) and constants in a
-- custom one (analytics_rollups_rebuild plans for its real bounds, and prunes the branch of
-- the other source).
CREATE OR REPLACE FUNCTION ssr_private.analytics_workshop_rows(
    p_grains text[],
    p_first_day date,
    p_last_day date,
    p_workshops uuid[],
    p_from_days boolean
) RETURNS SETOF analytics_workshop_rollup
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_first date;
    v_end date;
    v_from timestamptz;
    v_to timestamptz;
BEGIN
    SELECT
        min(date_trunc(g.grain, p_first_day::timestamp))::date,
        max(date_trunc(g.grain, p_last_day::timestamp) + ('1 ' || g.grain)::interval)::date
    INTO v_first, v_end
    FROM unnest(p_grains) AS g (grain);
    v_from := v_first::timestamp AT TIME ZONE 'UTC';
    v_to := v_end::timestamp AT TIME ZONE 'UTC';

    RETURN QUERY
    WITH base_facts AS (
        -- Sessions served by the workshop (with their review, if any, and their status).
        SELECT
            s.workshop_id,
            (s.created_at AT TIME ZONE 'UTC')::date AS day,
            1 AS sessions_served,
            0 AS preferred_sessions,
            0 AS preferred_requests,
            0 AS preferred_requests_closed,
            0 AS preferred_served_by_self,
            CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.amount_total_minor END AS revenue_minor,
            CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.currency END AS currency_low,
            CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.currency END AS currency_high,
            (r.rating IS NOT NULL)::integer AS review_count,
            r.rating AS rating_sum,
            0 AS accepted_requests,
            NULL::double precision [] AS accept_buckets,
            NULL::integer [] AS accept_counts,
            (s.status = 'waiting')::integer AS sessions_waiting,
            (s.status = 'live')::integer AS sessions_live,
            (s.status = 'completed')::integer AS sessions_completed,
            (s.status = 'no_show')::integer AS sessions_no_show,
            (s.status = 'cancelled')::integer AS sessions_cancelled,
            (s.status = 'refunded')::integer AS sessions_refunded,
            0::bigint AS refunds,
            0 AS declines,
            NULL::double precision [] AS decline_buckets,
            NULL::integer [] AS decline_counts,
            0::numeric AS live_seconds,
            0::numeric AS available_seconds
        FROM sessions AS s
        LEFT JOIN reviews AS r ON s.id = r.session_id
        WHERE s.workshop_id = ANY(p_workshops) AND s.created_at >= v_from AND s.created_at < v_to

        UNION ALL

        -- Sessions whose customer chose the workshop (with their refunds).
        SELECT
            s.preferred_workshop_id, (s.created_at AT TIME ZONE 'UTC')::date,
            0, 1, 0, 0, 0,
            NULL, NULL, NULL, 0, NULL,
            0, NULL, NULL,
            0, 0, 0, 0, 0, 0,
            (SELECT count(*) FROM refunds AS rf WHERE rf.session_id = s.id), 0, NULL, NULL,
            0, 0
        FROM sessions AS s
        WHERE s.preferred_workshop_id = ANY(p_workshops) AND s.created_at >= v_from AND s.created_at < v_to

        UNION ALL

        -- Requests that named the workshop as preferred.
        SELECT
            sr.preferred_workshop_id, (sr.created_at AT TIME ZONE 'UTC')::date,
            0, 0, 1,
            (sr.status IN ('accepted', 'expired'))::integer,
            coalesce(sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id, FALSE)::integer,
            NULL, NULL, NULL, 0, NULL,
            0, NULL, NULL,
            0, 0, 0, 0, 0, 0,
            0, 0, NULL, NULL,
            0, 0
        FROM session_requests AS sr
        WHERE sr.preferred_workshop_id = ANY(p_workshops) AND sr.created_at >= v_from AND sr.created_at < v_to

        UNION ALL

        -- Requests the workshop's mechanics accepted: time to accept.
        SELECT
            sr.workshop_id, (sr.created_at AT TIME ZONE 'UTC')::date,
            0, 0, 0, 0, 0,
            NULL, NULL, NULL, 0, NULL,
            1,
            ARRAY[ssr_private.analytics_bucket(extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision)],
            ARRAY[1],
            0, 0, 0, 0, 0, 0,
            0, 0, NULL, NULL,
            0, 0
        FROM session_requests AS sr
        WHERE
            sr.status = 'accepted'
            AND sr.workshop_id = ANY(p_workshops) AND sr.created_at >= v_from AND sr.created_at < v_to

        UNION ALL

        -- Declines by the workshop's mechanics, dated by declined_at: time from offer to decline.
        SELECT
            d.workshop_id, (d.declined_at AT TIME ZONE 'UTC')::date,
            0, 0, 0, 0, 0,
            NULL, NULL, NULL, 0, NULL,
            0, NULL, NULL,
            0, 0, 0, 0, 0, 0,
            0, 1,
            ARRAY[ssr_private.analytics_bucket(extract(EPOCH FROM d.declined_at - d.offered_at)::double precision)],
            ARRAY[1],
            0, 0
        FROM session_request_declines AS d
        WHERE d.workshop_id = ANY(p_workshops) AND d.declined_at >= v_from AND d.declined_at < v_to

        UNION ALL

        -- Closed calls and availability intervals, cut at UTC days (analytics_span_days).
        SELECT
            p.workshop_id, p.day,
            0, 0, 0, 0, 0,
            NULL, NULL, NULL, 0, NULL,
            0, NULL, NULL,
            0, 0, 0, 0, 0, 0,
            0, 0, NULL, NULL,
            CASE WHEN p.source = 'session' THEN p.seconds ELSE 0 END,
            CASE WHEN p.source = 'availability' THEN p.seconds ELSE 0 END
        FROM analytics_span_days AS p
        WHERE p.workshop_id = ANY(p_workshops) AND p.day >= v_first AND p.day < v_end
    ),

    facts AS (
        SELECT b.* FROM base_facts AS b
        WHERE NOT p_from_days

        UNION ALL

        -- The stored day rows: each the count of its day, histograms included.
        SELECT
            r.workshop_id, r.period_start,
            r.sessions_served, r.preferred_sessions, r.preferred_requests, r.preferred_requests_closed,
            r.preferred_served_by_self,
            r.revenue_minor, r.revenue_currencies[1], r.revenue_currencies[cardinality(r.revenue_currencies)],
            r.review_count, r.rating_sum,
            r.accepted_requests, r.accept_buckets, r.accept_counts,
            r.sessions_waiting, r.sessions_live, r.sessions_completed, r.sessions_no_show, r.sessions_cancelled,
            r.sessions_refunded,
            r.refunds, r.declines, r.decline_buckets, r.decline_counts,
            r.live_seconds, r.available_seconds
        FROM analytics_workshop_rollup AS r
        WHERE
            p_from_days
            AND r.period_grain = 'day'
            AND r.workshop_id = ANY(p_workshops)
            AND r.period_start >= v_first AND r.period_start < v_end
    ),

    -- One copy of each fact per grain whose periods it falls in.
    dated AS (
        SELECT
            f.*,
            g.grain,
            date_trunc(g.grain, f.day::timestamp)::date AS period_start
        FROM facts AS f
        INNER JOIN unnest(p_grains) AS g (grain)
            ON
                f.day >= date_trunc(g.grain, p_first_day::timestamp)::date
                AND f.day < (date_trunc(g.grain, p_last_day::timestamp) + ('1 ' || g.grain)::interval)::date
    ),

    sums AS (
        SELECT
            d.workshop_id,
            d.grain,
            d.period_start,
            sum(d.sessions_served) AS sessions_served,
            sum(d.preferred_sessions) AS preferred_sessions,
            sum(d.preferred_requests) AS preferred_requests,
            sum(d.preferred_requests_closed) AS preferred_requests_closed,
            sum(d.preferred_served_by_self) AS preferred_served_by_self,
            coalesce(sum(d.revenue_minor), 0) AS revenue_minor,
            -- lowest and highest currency: one element when single, two when mixed (no sort)
            array_remove(ARRAY[min(d.currency_low), nullif(max(d.currency_high), min(d.currency_low))], NULL)
                AS revenue_currencies,
            sum(d.review_count) AS review_count,
            coalesce(sum(d.rating_sum), 0) AS rating_sum,
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
        FROM dated AS d
        GROUP BY d.workshop_id, d.grain, d.period_start
    ),

    -- Both histograms of each period, bucket by bucket: the count of the bucket, the running
    -- count up to it (the 1-based rank of its last value) and the histogram's total.
    hist_buckets AS (
        SELECT
            h.*,
            sum(h.n) OVER (PARTITION BY h.workshop_id, h.grain, h.period_start, h.kind ORDER BY h.bucket) AS upto,
            sum(h.n) OVER (PARTITION BY h.workshop_id, h.grain, h.period_start, h.kind) AS total
        FROM (
            SELECT d.workshop_id, d.grain, d.period_start, k.kind, b.bucket, sum(b.n)::integer AS n
            FROM dated AS d
            CROSS JOIN LATERAL (
                VALUES ('accept', d.accept_buckets, d.accept_counts), ('decline', d.decline_buckets, d.decline_counts)
            ) AS k (kind, buckets, counts)
            CROSS JOIN LATERAL unnest(k.buckets, k.counts) AS b (bucket, n)
            GROUP BY d.workshop_id, d.grain, d.period_start, k.kind, b.bucket
        ) AS h
    ),

    -- Each histogram as its arrays and its percentiles, computed as percentile_cont computes
    -- them over the values one by one (each bucket taken n times), without expanding them: the
    -- position pos = fraction * (total - 1) among the 0-based ranks, the values at ranks
    -- floor(pos) and ceil(pos) (the first bucket whose running count passes the rank),
    -- interpolated: low + (pos - floor(pos)) * (high - low), the same arithmetic in double
    -- precision, so the same result to the bit.
    hists AS (
        SELECT
            h.*,
            h.p50_low + (h.p50_pos - floor(h.p50_pos)) * (h.p50_high - h.p50_low) AS p50,
            h.p90_low + (h.p90_pos - floor(h.p90_pos)) * (h.p90_high - h.p90_low) AS p90
        FROM (
            SELECT
                b.workshop_id,
                b.grain,
                b.period_start,
                b.kind,
                array_agg(b.bucket ORDER BY b.bucket) AS buckets,
                array_agg(b.n ORDER BY b.bucket) AS counts,
                min(r.p50_pos) AS p50_pos,
                min(b.bucket) FILTER (WHERE b.upto > floor(r.p50_pos)) AS p50_low,
                min(b.bucket) FILTER (WHERE b.upto > ceil(r.p50_pos)) AS p50_high,
                min(r.p90_pos) AS p90_pos,
                min(b.bucket) FILTER (WHERE b.upto > floor(r.p90_pos)) AS p90_low,
                min(b.bucket) FILTER (WHERE b.upto > ceil(r.p90_pos)) AS p90_high
            FROM hist_buckets AS b
            CROSS JOIN LATERAL (
                VALUES (
                    0.5::double precision * (b.total - 1)::double precision,
                    0.9::double precision * (b.total - 1)::double precision
                )
            ) AS r (p50_pos, p90_pos)
            GROUP BY b.workshop_id, b.grain, b.period_start, b.kind
        ) AS h
    )

    -- In the column order of analytics_workshop_rollup.
    SELECT
        s.workshop_id,
        s.grain,
        s.period_start,
        s.sessions_served::bigint,
        s.preferred_sessions::bigint,
        s.preferred_requests::bigint,
        s.preferred_requests_closed::bigint,
        s.preferred_served_by_self::bigint,
        s.revenue_minor::bigint,
        s.revenue_currencies,
        s.review_count::bigint,
        s.rating_sum::bigint,
        s.accepted_requests::bigint,
        coalesce(a.buckets, '{}'),
        coalesce(a.counts, '{}'),
        a.p50,
        a.p90,
        s.sessions_waiting::bigint,
        s.sessions_live::bigint,
        s.sessions_completed::bigint,
        s.sessions_no_show::bigint,
        s.sessions_cancelled::bigint,
        s.sessions_refunded::bigint,
        s.refunds::bigint,
        s.declines::bigint,
        coalesce(dh.buckets, '{}'),
        coalesce(dh.counts, '{}'),
        dh.p50,
        s.live_seconds,
        s.available_seconds
    FROM sums AS s
    LEFT JOIN hists AS a
        ON s.workshop_id = a.workshop_id AND s.grain = a.grain AND s.period_start = a.period_start AND a.kind = 'accept'
    LEFT JOIN hists AS dh
        ON
            s.workshop_id = dh.workshop_id AND s.grain = dh.grain AND s.period_start = dh.period_start
            AND dh.kind = 'decline';
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_workshop_rows(text[], date, date, uuid[], boolean) IS
'Internal: the rows analytics_workshop_rollup should hold for these grains, workshops and periods, counted from the '
'base tables or merged from the day rows (p_from_days). Writes nothing.';
REVOKE ALL ON FUNCTION ssr_private.analytics_workshop_rows(text[], date, date, uuid[], boolean) FROM PUBLIC;
