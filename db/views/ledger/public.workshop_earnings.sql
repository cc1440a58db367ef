-- public.workshop_earnings: kept for compatibility with readers of the name it had before the BI views
-- were gathered in schema analytics: every row and column of analytics.workshop_earnings, with its
-- column comments. Readable, as before, by the owner only (no grants). New readers use
-- analytics.workshop_earnings.
CREATE OR REPLACE VIEW public.workshop_earnings AS
SELECT * FROM analytics.workshop_earnings;

COMMENT ON VIEW public.workshop_earnings IS
'Kept for compatibility: analytics.workshop_earnings under its former name. Read analytics.workshop_earnings.';

-- The columns say what analytics.workshop_earnings's say.
SELECT ssr_private.copy_column_comments('public.workshop_earnings', 'analytics.workshop_earnings');
