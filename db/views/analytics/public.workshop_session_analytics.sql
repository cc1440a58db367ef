-- public.workshop_session_analytics: kept for compatibility with readers of the name the view
-- had before the BI views moved to schema analytics (the design note's name, unqualified, in
-- public): every row and column of analytics.workshop_session_analytics, with its column
-- comments. Readable, as it was in public, by the role analytics (which finds the analytics
-- view first through its search_path, "$user", public). New readers use
-- analytics.workshop_session_analytics. The design note's check (SELECT * FROM
-- workshop_session_analytics, as the owner with the default search_path) finds it here
-- (tests/test_design_note.py).
CREATE OR REPLACE VIEW public.workshop_session_analytics AS
SELECT * FROM analytics.workshop_session_analytics;

COMMENT ON VIEW public.workshop_session_analytics IS
'Kept for compatibility: analytics.workshop_session_analytics under its former name. '
'Read analytics.workshop_session_analytics.';

-- The columns say what analytics.workshop_session_analytics's say.
DO $$
DECLARE
    v_col record;
BEGIN
    FOR v_col IN
        SELECT a.attname, col_description(a.attrelid, a.attnum) AS description
        FROM pg_attribute AS a
        WHERE a.attrelid = 'analytics.workshop_session_analytics'::regclass AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        EXECUTE format('COMMENT ON COLUMN public.workshop_session_analytics.%I IS %L', v_col.attname, v_col.description);
    END LOOP;
END
$$;

GRANT SELECT ON public.workshop_session_analytics TO analytics;
