-- routing_available_mechanics: the mechanics routing may use now, by the eligibility rule
-- (present: is_available and in working hours by the maintained flag in_hours, which the job
-- hours keeps within 30 s of the clock; the counting triggers follow the same flag)
-- routing_mechanic_eligible (active and available, independent or of an active workshop;
-- pending and suspended workshops' mechanics are excluded everywhere). Inlined by the
-- planner; the functions of routing read it. The mechanic row-level-security policy and
-- the counting triggers (workshop_stats, routing_candidates) call the same function.
CREATE OR REPLACE VIEW ssr_private.routing_available_mechanics AS
SELECT
    m.id AS mechanic_id,
    m.workshop_id,
    m.rating
FROM mechanics AS m
LEFT JOIN organizations AS o ON m.workshop_id = o.id
WHERE routing_mechanic_eligible(m.status, m.is_available AND m.in_hours, m.workshop_id, o.status);

COMMENT ON VIEW ssr_private.routing_available_mechanics IS
'Mechanics routing may use right now: active, available, independent or of an active workshop.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.workshop_id IS 'Their workshop (active), NULL for independents.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.rating IS 'Their cached rating, used to order candidates.';
