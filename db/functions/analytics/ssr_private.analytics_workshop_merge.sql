-- analytics_workshop_merge: rebuilds the week or month rows (p_grain) of
-- analytics_workshop_rollup for the given workshops and the periods containing
-- p_first_day..p_last_day, by merging their day rows (analytics_workshop_rows, p_from_days
-- TRUE: counters add up, currencies unite, histograms add bucket by bucket, percentiles
-- over the merged histogram). Returns the number of rows written. Internal: called by
-- refresh_analytics() after the day rows are recounted.
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
    v_rows integer;
BEGIN
    IF p_grain IS NULL OR p_grain NOT IN ('week', 'month') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'grain must be week or month', COLUMN = 'grain';
    END IF;
    DELETE FROM analytics_workshop_rollup AS r
    WHERE
        r.period_grain = p_grain
        AND r.workshop_id = ANY(p_workshops)
        AND r.period_start >= date_trunc(p_grain, p_first_day::timestamp)::date
        AND r.period_start < (date_trunc(p_grain, p_last_day::timestamp) + ('1 ' || p_grain)::interval)::date;
    INSERT INTO analytics_workshop_rollup
    SELECT * FROM ssr_private.analytics_workshop_rows(ARRAY[p_grain], p_first_day, p_last_day, p_workshops, TRUE);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION ssr_private.analytics_workshop_merge(text, date, date, uuid[]) IS
'Internal: rebuilds week or month rows of analytics_workshop_rollup by merging their day rows (histograms included).';
REVOKE ALL ON FUNCTION ssr_private.analytics_workshop_merge(text, date, date, uuid[]) FROM PUBLIC;
