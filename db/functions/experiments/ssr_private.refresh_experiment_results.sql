-- ssr_private.refresh_experiment_results: the job that keeps the experiment rollup fresh (the
-- worker's job experiment_results runs it every few seconds; owner and ssr_worker). Takes
-- (deletes) up to p_max_changes queued rows of experiment_changes, recounts the touched
-- units (experiment, arm, unit, window) of analytics_experiment_units from the base tables
-- (the unit's assignments, their requests, sessions, refunds and reviews: the work grows
-- with the changes, not the history), then applies the guardrails of the running
-- experiments (ssr_private.experiment_guardrails_check). Concurrent runs do not wait: a
-- second returns ran = FALSE (transaction-level advisory lock). Returns ran, changes,
-- units (rows recounted), arms_stopped, more (the batch was full).
-- Errors: p_max_changes NULL or < 1: SR400.
CREATE OR REPLACE FUNCTION ssr_private.refresh_experiment_results(p_max_changes integer DEFAULT 100000)
RETURNS TABLE (ran boolean, changes bigint, units integer, arms_stopped integer, more boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_changes bigint;
    v_units integer;
BEGIN
    IF p_max_changes IS NULL OR p_max_changes < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'max_changes must be >= 1', COLUMN = 'max_changes';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('ssr.refresh_experiment_results')) THEN
        RETURN QUERY SELECT FALSE, 0::bigint, 0, 0, FALSE;
        RETURN;
    END IF;

    WITH taken AS (
        DELETE FROM experiment_changes AS c
        WHERE c.id IN (SELECT q.id FROM experiment_changes AS q ORDER BY q.id LIMIT p_max_changes)
        RETURNING c.session_request_id
    ),

    keys AS (
        SELECT DISTINCT a.experiment_id, a.arm, a.unit_key, a.window_start
        FROM taken AS t
        INNER JOIN routing_experiment_assignments AS a ON t.session_request_id = a.session_request_id
    ),

    facts AS (
        SELECT
            k.experiment_id, k.arm, k.unit_key, k.window_start,
            r.status,
            extract(EPOCH FROM r.accepted_at - r.created_at)::double precision AS accept_seconds,
            s.status AS session_status,
            f.refunded_minor,
            v.rating
        FROM keys AS k
        INNER JOIN routing_experiment_assignments AS a
            ON (a.experiment_id, a.arm, a.unit_key, a.window_start) = (k.experiment_id, k.arm, k.unit_key, k.window_start)
        INNER JOIN session_requests AS r ON a.session_request_id = r.id
        LEFT JOIN sessions AS s ON r.session_id = s.id
        LEFT JOIN reviews AS v ON r.session_id = v.session_id
        LEFT JOIN LATERAL (
            SELECT sum(x.amount_minor) AS refunded_minor
            FROM refunds AS x
            WHERE (x.session_request_id = r.id OR x.session_id = r.session_id) AND x.status <> 'failed'
        ) AS f ON TRUE
    ),

    hist AS (
        SELECT
            h.experiment_id, h.arm, h.unit_key, h.window_start,
            array_agg(h.bucket ORDER BY h.bucket) AS buckets,
            array_agg(h.n ORDER BY h.bucket) AS counts
        FROM (
            SELECT
                x.experiment_id, x.arm, x.unit_key, x.window_start,
                ssr_private.analytics_bucket(x.accept_seconds) AS bucket, count(*)::integer AS n
            FROM facts AS x
            WHERE x.status = 'accepted'
            GROUP BY 1, 2, 3, 4, 5
        ) AS h
        GROUP BY 1, 2, 3, 4
    ),

    counted AS (
        SELECT
            x.experiment_id, x.arm, x.unit_key, x.window_start,
            count(*)::integer AS requests,
            count(*) FILTER (WHERE x.status = 'accepted')::integer AS accepted,
            coalesce(sum(x.accept_seconds) FILTER (WHERE x.status = 'accepted'), 0) AS accept_seconds_sum,
            count(*) FILTER (WHERE x.status = 'expired')::integer AS expired,
            count(*) FILTER (WHERE x.status = 'cancelled')::integer AS cancelled,
            count(x.refunded_minor)::integer AS refunds,
            coalesce(sum(x.refunded_minor), 0)::bigint AS refunded_minor,
            count(*) FILTER (WHERE x.session_status = 'completed')::integer AS completed,
            count(*) FILTER (WHERE x.session_status = 'no_show')::integer AS no_show,
            count(x.rating)::integer AS review_count,
            coalesce(sum(x.rating), 0)::integer AS rating_sum
        FROM facts AS x
        GROUP BY 1, 2, 3, 4
    ),

    upserted AS (
        INSERT INTO analytics_experiment_units AS u (
            experiment_id, arm, unit_key, window_start, requests, accepted, accept_seconds_sum,
            accept_buckets, accept_counts, expired, cancelled, refunds, refunded_minor, completed, no_show,
            review_count, rating_sum, recounted_at
        )
        SELECT
            c.experiment_id, c.arm, c.unit_key, c.window_start, c.requests, c.accepted, c.accept_seconds_sum,
            coalesce(h.buckets, '{}'), coalesce(h.counts, '{}'), c.expired, c.cancelled, c.refunds,
            c.refunded_minor, c.completed, c.no_show, c.review_count, c.rating_sum, now()
        FROM counted AS c
        LEFT JOIN hist AS h
            ON (h.experiment_id, h.arm, h.unit_key, h.window_start) = (c.experiment_id, c.arm, c.unit_key, c.window_start)
        ON CONFLICT (experiment_id, arm, unit_key, window_start) DO UPDATE SET
            requests = excluded.requests,
            accepted = excluded.accepted,
            accept_seconds_sum = excluded.accept_seconds_sum,
            accept_buckets = excluded.accept_buckets,
            accept_counts = excluded.accept_counts,
            expired = excluded.expired,
            cancelled = excluded.cancelled,
            refunds = excluded.refunds,
            refunded_minor = excluded.refunded_minor,
            completed = excluded.completed,
            no_show = excluded.no_show,
            review_count = excluded.review_count,
            rating_sum = excluded.rating_sum,
            recounted_at = excluded.recounted_at
        RETURNING 1
    )

    SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM upserted)::integer INTO v_changes, v_units;

    RETURN QUERY SELECT
        TRUE, v_changes, v_units, ssr_private.experiment_guardrails_check(), v_changes >= p_max_changes;
END
$$;

COMMENT ON FUNCTION ssr_private.refresh_experiment_results(integer) IS
'The experiment rollup job: recounts the units touched by queued changes, then applies the guardrails. Returns ran, '
'changes, units, arms_stopped, more.';

REVOKE ALL ON FUNCTION ssr_private.refresh_experiment_results(integer) FROM PUBLIC;
