-- analytics_workshop_recount: recounts the rows of the grains p_grains (day, week, month)
-- of analytics_workshop_rollup for the given workshops and the periods containing UTC days
-- p_first_day..p_last_day from the base tables (analytics_workshop_rows, p_from_days
-- FALSE), replacing what was there; periods without activity lose their row. Returns the
-- number of rows written. Internal: refresh_analytics() recounts the touched workshop-days
-- (and merges weeks and months from them, analytics_workshop_merge);
-- analytics_rollups_rebuild() recounts all three grains in one pass over the base tables.
-- Errors: p_grains empty or with another value than day, week, month: SR400 (COLUMN
-- grain); NULL days or workshops recount nothing.
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
    v_rows integer;
BEGIN
    IF cardinality(p_grains) IS NULL OR cardinality(p_grains) = 0
        OR NOT p_grains <@ ARRAY['day', 'week', 'month'] THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'grains must be day, week or month', COLUMN = 'grain';
    END IF;
    DELETE FROM analytics_workshop_rollup AS r
    USING unnest(p_grains) AS g (grain)
    WHERE
        r.period_grain = g.grain
        AND r.workshop_id = ANY(p_workshops)
        AND r.period_start >= date_trunc(g.grain, p_first_day::timestamp)::date
        AND r.period_start < (date_trunc(g.grain, p_last_day::timestamp) + ('1 ' || g.grain)::interval)::date;
    INSERT INTO analytics_workshop_rollup
    SELECT * FROM ssr_private.analytics_workshop_rows(p_grains, p_first_day, p_last_day, p_workshops, FALSE);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_workshop_recount(text[], date, date, uuid[]) IS
'Internal: recounts the rows of some grains of analytics_workshop_rollup for these workshops and periods from the base '
'tables.';
REVOKE ALL ON FUNCTION ssr_private.analytics_workshop_recount(text[], date, date, uuid[]) FROM PUBLIC;
