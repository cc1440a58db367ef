-- ssr:after-objects
-- 0086: explain_routing moved to schema ssr_private (optional PL/Python layer: staff read
-- its narratives in the view analytics.routing_explanations); this drops the old public
-- one. It may not exist (no PL/Python there): IF EXISTS. Safe to run again. Errors: none
-- of its own. It was owner-only: no client of the API called it.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.explain_routing(uuid);
