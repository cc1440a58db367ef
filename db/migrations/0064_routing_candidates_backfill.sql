-- ssr:after-objects
-- 0064: counts the mechanics routing may use now into routing_candidates (0060), after the
-- counting triggers exist. Mechanics and organizations are locked in SHARE mode for the
-- count (a few ms: their writers wait, no reader does), so no change falls between the
-- count and the triggers. Safe to run again. Inputs: none. Errors: none of its own.

LOCK TABLE mechanics, organizations IN SHARE MODE;

UPDATE routing_candidates
SET eligible_mechanics = (SELECT count(*)::integer FROM ssr_private.routing_available_mechanics);
