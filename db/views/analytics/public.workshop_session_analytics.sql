-- The design note's name for the BI contract: the note's checks (SELECT * FROM
-- workshop_session_analytics, as the owner with the default search_path) find it here. It is
-- analytics.workshop_session_analytics, column for column; BI tools read that one (schema
-- analytics, role analytics). The owner's only: no grant beyond the view in analytics.
CREATE OR REPLACE VIEW public.workshop_session_analytics AS
SELECT * FROM analytics.workshop_session_analytics;

COMMENT ON VIEW public.workshop_session_analytics IS
'The design note''s name for analytics.workshop_session_analytics (the BI contract): the same rows and columns.';
