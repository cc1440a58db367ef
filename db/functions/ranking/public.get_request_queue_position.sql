-- get_request_queue_position: the customer's place in line, for the success page. Read only.
-- For a pending request: the pool of mechanics it waits for, its position among the pending
-- requests competing for that pool, and an estimated wait.
--   pool: 'workshop' while only the preferred workshop may take it (workshop_only; hybrid
--         inside its window), else 'everyone'; pool_mechanics = the pool's mechanics present
--         now (the maintained counts: workshop_stats.available_mechanics, routing_candidates).
--   competing: pending, not past expiry, and offered to that same pool: for 'workshop', the
--         requests preferring that workshop (workshop_only, hybrid) and the requests open to
--         everyone (broadcast; hybrid past its window); for 'everyone', the requests open to
--         everyone. Requests reserved for one workshop compete for a part of the pool only
--         and are not counted for 'everyone'.
--   ahead: competing requests served before it in the order mechanics get them when
--         capacity frees: higher priority (session_requests.priority) first, then older
--         first (created_at, id). position = ahead + 1.
--   estimated wait: the typical time to accept of the last 7 UTC days (the median of the
--         analytics rollups' histograms of the preferred workshop for the 'workshop' pool,
--         when it has at least 5 accepts, else the routing type's daily medians weighted by
--         their accepts, analytics_routing_rollup), times the rounds before its turn
--         (ceil(position / pool_mechanics)), minus the time it already waited, not below 0.
--         NULL when nobody of the pool is present or no accept is recorded (no basis).
-- A request that is no longer pending: one row with its status and NULL figures.
-- Errors, in this order: SR400 request_id / customer_id missing; SR403 no verified customer
-- identity, or another's (ssr_private.assert_acting_for); SR404 unknown request or another
-- customer's (never revealing which).
CREATE OR REPLACE FUNCTION get_request_queue_position(p_session_request_id uuid, p_customer_id uuid)
RETURNS TABLE (
    session_request_id uuid,
    status text,
    pool text,
    pool_mechanics integer,
    queue_position integer,
    ahead integer,
    typical_accept_seconds double precision,
    accept_sample integer,
    estimated_wait_seconds integer,
    computed_at timestamptz
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_req session_requests;
    v_now timestamptz := now();
    v_prio integer;
    v_pool text;
    v_mechanics integer;
    v_ahead integer;
    v_typical double precision;
    v_sample integer := 0;
    v_total bigint;
BEGIN
    IF p_session_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_id is required', COLUMN = 'customer_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('customer', p_customer_id);
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_session_request_id AND r.customer_id = p_customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404',
            MESSAGE = format('request_id %s: no such session request of this customer', p_session_request_id),
            COLUMN = 'request_id';
    END IF;
    IF v_req.status <> 'pending' OR v_req.expires_at <= v_now THEN
        RETURN QUERY SELECT v_req.id, v_req.status, NULL::text, NULL::integer, NULL::integer, NULL::integer,
            NULL::double precision, NULL::integer, NULL::integer, v_now;
        RETURN;
    END IF;
    v_prio := coalesce(v_req.priority, 0);
    v_pool := CASE
        WHEN v_req.routing_type = 'workshop_only' OR v_req.exclusive_until > v_now THEN 'workshop'
        ELSE 'everyone'
    END;
    IF v_pool = 'workshop' THEN
        SELECT ws.available_mechanics INTO v_mechanics
        FROM workshop_stats AS ws WHERE ws.workshop_id = v_req.preferred_workshop_id;
    ELSE
        SELECT rc.eligible_mechanics INTO v_mechanics FROM routing_candidates AS rc;
    END IF;
    v_mechanics := coalesce(v_mechanics, 0);

    SELECT count(*)::integer INTO v_ahead
    FROM session_requests AS r
    WHERE
        r.status = 'pending'
        AND (r.expires_at IS NULL OR r.expires_at > v_now)
        AND r.id <> v_req.id
        AND (
            coalesce(r.priority, 0) > v_prio
            OR (coalesce(r.priority, 0) = v_prio AND (r.created_at, r.id) < (v_req.created_at, v_req.id))
        )
        AND (
            r.routing_type = 'broadcast'
            OR (r.routing_type = 'hybrid' AND (r.exclusive_until IS NULL OR r.exclusive_until <= v_now))
            OR (
                v_pool = 'workshop'
                AND r.preferred_workshop_id = v_req.preferred_workshop_id
                AND r.routing_type IN ('workshop_only', 'hybrid')
            )
        );

    IF v_pool = 'workshop' THEN
        WITH h AS (
            SELECT b.bucket, sum(b.n) AS n
            FROM analytics_workshop_rollup AS a
            CROSS JOIN LATERAL unnest(a.accept_buckets, a.accept_counts) AS b (bucket, n)
            WHERE
                a.workshop_id = v_req.preferred_workshop_id AND a.period_grain = 'day'
                AND a.period_start >= (v_now AT TIME ZONE 'UTC')::date - 6
            GROUP BY b.bucket
        ),

        c AS (SELECT h.bucket, h.n, sum(h.n) OVER (ORDER BY h.bucket) AS cum, sum(h.n) OVER () AS total FROM h)

        SELECT c.bucket, c.total INTO v_typical, v_total
        FROM c WHERE c.cum >= ceil(c.total / 2.0) ORDER BY c.bucket LIMIT 1;
        v_sample := coalesce(v_total, 0)::integer;
    END IF;
    IF v_sample < 5 THEN
        SELECT sum(a.median_accept_seconds * a.accepted) / nullif(sum(a.accepted), 0), sum(a.accepted)::integer
        INTO v_typical, v_sample
        FROM analytics_routing_rollup AS a
        WHERE
            a.routing_type = v_req.routing_type AND a.day >= (v_now AT TIME ZONE 'UTC')::date - 6
            AND a.median_accept_seconds IS NOT NULL;
        v_sample := coalesce(v_sample, 0);
    END IF;

    RETURN QUERY SELECT
        v_req.id, v_req.status, v_pool, v_mechanics, v_ahead + 1, v_ahead, v_typical, v_sample,
        CASE
            WHEN v_mechanics > 0 AND v_typical IS NOT NULL THEN
                greatest(
                    0,
                    round(
                        v_typical * ceil((v_ahead + 1)::numeric / v_mechanics)
                        - extract(EPOCH FROM v_now - v_req.created_at)
                    )
                )::integer
        END,
        v_now;
END
$$;

COMMENT ON FUNCTION get_request_queue_position(uuid, uuid) IS
'A customer''s pending request: its pool, position among competing pending requests, and estimated wait.';
