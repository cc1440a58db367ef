-- public.workshop_earnings: kept for compatibility with readers of the name it had before the BI views
-- were gathered in schema analytics: every row and column of analytics.workshop_earnings, with its
-- column comments. Readable, as before, by the owner only (no grants). New readers use
-- analytics.workshop_earnings.
CREATE OR REPLACE VIEW public.workshop_earnings AS
SELECT * FROM analytics.workshop_earnings;

COMMENT ON VIEW public.workshop_earnings IS
'Kept for compatibility: analytics.workshop_earnings under its former name. Read analytics.workshop_earnings.';

-- The columns say what analytics.workshop_earnings's say.
DO $$
DECLARE
    v_col record;
BEGIN
    FOR v_col IN
        SELECT a.attname, col_description(a.attrelid, a.attnum) AS description
        FROM pg_attribute AS a
        WHERE a.attrelid = 'analytics.workshop_earnings'::regclass AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        EXECUTE format('COMMENT ON COLUMN public.workshop_earnings.%I IS %L', v_col.attname, v_col.description);
    END LOOP;
END
$$;
