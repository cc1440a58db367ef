-- get_staff_reconciliation_runs: the reconciliation runs (the worker's comparison of Stripe's
-- Checkout Sessions with our purchases), newest first, for support, read-only, acting for an
-- active staff member. Per run: the window (created_since), started and finished (NULL: running
-- or died), sessions seen, fulfilled, problems, its error, and its actions counted by kind
-- (actions: e.g. "fulfilled: 2, not_retrievable: 1").
-- p_limit 1..500 (default 50).
-- Errors, in order: SR400 (limit) out of range; those of ssr_private.assert_staff (SR400/SR403).
CREATE OR REPLACE FUNCTION get_staff_reconciliation_runs(p_staff_id uuid, p_limit integer DEFAULT 50)
RETURNS TABLE (
    run_id bigint,
    created_since timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    sessions_seen integer,
    fulfilled integer,
    problems integer,
    error text,
    actions text
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be from 1 to 500 (got %s)', p_limit), COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');

    RETURN QUERY
    SELECT
        r.id, r.created_since, r.started_at, r.finished_at, r.sessions_seen, r.fulfilled, r.problems, r.error,
        (
            SELECT string_agg(k.action || ': ' || k.n, ', ' ORDER BY k.action)
            FROM (
                SELECT a.action, count(*) AS n FROM reconciliation_actions AS a WHERE a.run_id = r.id GROUP BY a.action
            ) AS k
        )
    FROM reconciliation_runs AS r
    ORDER BY r.started_at DESC, r.id DESC
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_staff_reconciliation_runs(uuid, integer) IS
'Staff (support): reconciliation runs, newest first, with their counts and actions by kind.';
