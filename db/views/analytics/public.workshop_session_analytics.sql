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
SELECT ssr_private.copy_column_comments('public.workshop_session_analytics', 'analytics.workshop_session_analytics');

GRANT SELECT ON public.workshop_session_analytics TO analytics;
