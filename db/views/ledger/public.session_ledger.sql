-- public.session_ledger: kept for compatibility with readers of the name it had before the BI views
-- were gathered in schema analytics: every row and column of analytics.session_ledger, with its
-- column comments. Readable, as before, by the owner only (no grants). New readers use
-- analytics.session_ledger.
CREATE OR REPLACE VIEW public.session_ledger AS
SELECT * FROM analytics.session_ledger;

COMMENT ON VIEW public.session_ledger IS
'Kept for compatibility: analytics.session_ledger under its former name. Read analytics.session_ledger.';

-- The columns say what analytics.session_ledger's say.
DO $$
DECLARE
    v_col record;
BEGIN
    FOR v_col IN
        SELECT a.attname, col_description(a.attrelid, a.attnum) AS description
        FROM pg_attribute AS a
        WHERE a.attrelid = 'analytics.session_ledger'::regclass AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        EXECUTE format('COMMENT ON COLUMN public.session_ledger.%I IS %L', v_col.attname, v_col.description);
    END LOOP;
END
$$;
