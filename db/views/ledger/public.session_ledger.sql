-- public.session_ledger: kept for compatibility with readers of the name it had before the BI views
-- were gathered in schema analytics: every row and column of analytics.session_ledger, with its
-- column comments. Readable, as before, by the owner only (no grants). New readers use
-- analytics.session_ledger.
CREATE OR REPLACE VIEW public.session_ledger AS
SELECT * FROM analytics.session_ledger;

COMMENT ON VIEW public.session_ledger IS
'Kept for compatibility: analytics.session_ledger under its former name. Read analytics.session_ledger.';

-- The columns say what analytics.session_ledger's say.
SELECT ssr_private.copy_column_comments('public.session_ledger', 'analytics.session_ledger');
