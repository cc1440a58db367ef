-- refresh_analytics: the job that keeps the BI views fresh. Run it every few seconds
-- (the worker, tools/sweeper.py, does; as the owner: not executable by analytics or PUBLIC).
-- Input: p_max_changes, the most queued changes taken in one run (default 100,000).
-- It takes (deletes) the oldest queued rows of analytics_changes, recounts the touched
-- workshop-days and routing-days from the base tables and merges the touched weeks and
-- months from the day rows, all in the caller's transaction. A change committed while
-- it runs stays queued for the next run (a row is taken only once it is visible, and
-- the recount that follows sees it). Concurrent runs do not wait for each other: a
-- second one returns at once with ran = FALSE (transaction-level advisory lock).
-- Returns: ran, changes (rows taken), workshop_days, routing_days (day rows recounted),
-- more (the batch was full: run again). Errors: p_max_changes NULL or < 1: SR400.
CREATE OR REPLACE FUNCTION ssr_private.refresh_analytics(p_max_changes integer DEFAULT 100000)
RETURNS TABLE (ran boolean, changes bigint, workshop_days integer, routing_days integer, more boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
-- The recounts and merges run the same statements many times a run with small arguments:
-- planned once per session (generic plans, as prepared statements), not on every call (a
-- custom plan costs more to make than to run). analytics_rollups_rebuild plans its one big
-- recount for its real bounds.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_changes bigint;
    v_ws uuid[];
    v_ws_days date[];
    v_types text[];
    v_type_days date[];
    v_day date;
    v_period date;
    v_workshop_days integer := 0;
    v_routing_days integer := 0;
BEGIN
    IF p_max_changes IS NULL OR p_max_changes < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'max_changes must be >= 1', COLUMN = 'max_changes';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('ssr.refresh_analytics')) THEN
        RETURN QUERY SELECT FALSE, 0::bigint, 0, 0, FALSE;
        RETURN;
    END IF;

    WITH taken AS (
        DELETE FROM analytics_changes AS c
        WHERE c.id IN (SELECT q.id FROM analytics_changes AS q ORDER BY q.id LIMIT p_max_changes)
        RETURNING c.workshop_id, c.preferred_workshop_id, c.routing_type, c.created_at
    ),

    workshop_keys AS (
        SELECT DISTINCT
            k.workshop_id,
            date_trunc('day', t.created_at AT TIME ZONE 'UTC')::date AS day
        FROM taken AS t
        CROSS JOIN LATERAL (VALUES (t.workshop_id), (t.preferred_workshop_id)) AS k (workshop_id)
        WHERE k.workshop_id IS NOT NULL
    ),

    routing_keys AS (
        SELECT DISTINCT
            t.routing_type,
            date_trunc('day', t.created_at AT TIME ZONE 'UTC')::date AS day
        FROM taken AS t
        WHERE t.routing_type IS NOT NULL
    )

    SELECT
        (SELECT count(*) FROM taken),
        (SELECT array_agg(w.workshop_id ORDER BY w.day) FROM workshop_keys AS w),
        (SELECT array_agg(w.day ORDER BY w.day) FROM workshop_keys AS w),
        (SELECT array_agg(r.routing_type ORDER BY r.day) FROM routing_keys AS r),
        (SELECT array_agg(r.day ORDER BY r.day) FROM routing_keys AS r)
    INTO v_changes, v_ws, v_ws_days, v_types, v_type_days;

    -- Day rows: one recount per touched day, for the workshops touched that day.
    FOR v_day IN SELECT DISTINCT d FROM unnest(v_ws_days) AS d ORDER BY d LOOP
        v_workshop_days := v_workshop_days + ssr_private.analytics_workshop_recount(
            ARRAY['day'], v_day, v_day,
            ARRAY(SELECT k.w FROM unnest(v_ws, v_ws_days) AS k (w, d) WHERE k.d = v_day)
        );
    END LOOP;
    -- Weeks and months: merged from the day rows, for the workshops touched in them.
    FOR v_period IN
        SELECT DISTINCT date_trunc('week', d::timestamp)::date FROM unnest(v_ws_days) AS d
    LOOP
        PERFORM ssr_private.analytics_workshop_merge(
            'week', v_period, v_period,
            ARRAY(
                SELECT DISTINCT k.w FROM unnest(v_ws, v_ws_days) AS k (w, d)
                WHERE date_trunc('week', k.d::timestamp)::date = v_period
            )
        );
    END LOOP;
    FOR v_period IN
        SELECT DISTINCT date_trunc('month', d::timestamp)::date FROM unnest(v_ws_days) AS d
    LOOP
        PERFORM ssr_private.analytics_workshop_merge(
            'month', v_period, v_period,
            ARRAY(
                SELECT DISTINCT k.w FROM unnest(v_ws, v_ws_days) AS k (w, d)
                WHERE date_trunc('month', k.d::timestamp)::date = v_period
            )
        );
    END LOOP;
    FOR v_day IN SELECT DISTINCT d FROM unnest(v_type_days) AS d ORDER BY d LOOP
        v_routing_days := v_routing_days + ssr_private.analytics_routing_recount(
            v_day, v_day,
            ARRAY(SELECT k.t FROM unnest(v_types, v_type_days) AS k (t, d) WHERE k.d = v_day)
        );
    END LOOP;

    RETURN QUERY SELECT TRUE, v_changes, v_workshop_days, v_routing_days, v_changes >= p_max_changes;
END
$$;

COMMENT ON FUNCTION ssr_private.refresh_analytics(integer) IS
'The analytics job: applies up to p_max_changes queued changes to the rollups the BI views read (run every few '
'seconds; concurrent runs skip). Returns ran, changes, workshop_days, routing_days, more. Owner only.';
REVOKE ALL ON FUNCTION ssr_private.refresh_analytics(integer) FROM PUBLIC;
