-- ssr:after-objects
-- 0072: recounts routing_candidates.listed_workshops (0070) once the triggers that keep it
-- exist, so no flip that fell between 0070 and the new triggers is lost. workshop_stats and
-- organizations are locked in SHARE mode for the count (their writers wait a few ms, no
-- reader does). Safe to run again. Inputs: none. Errors: none of its own.

LOCK TABLE workshop_stats, organizations IN SHARE MODE;

UPDATE routing_candidates
SET listed_workshops = (
    SELECT count(*)::integer
    FROM workshop_stats AS ws
    INNER JOIN organizations AS o ON ws.workshop_id = o.id
    WHERE o.status = 'active' AND ws.available_mechanics > 0
);
