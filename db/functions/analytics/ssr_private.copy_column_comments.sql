-- ssr_private.copy_column_comments(view, source): the column comments of `source` set on the
-- columns of the same name of `view`: a compatibility view (public.session_ledger,
-- public.workshop_earnings, public.workshop_session_analytics) says what its source's columns
-- say, written once. Owner only; called by those views' files. No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.copy_column_comments(p_view regclass, p_source regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_col record;
BEGIN
    FOR v_col IN
        SELECT a.attname, col_description(a.attrelid, a.attnum) AS description
        FROM pg_attribute AS a
        JOIN pg_attribute AS v ON v.attrelid = p_view AND v.attname = a.attname AND NOT v.attisdropped
        WHERE a.attrelid = p_source AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', p_view, v_col.attname, v_col.description);
    END LOOP;
END
$$;
