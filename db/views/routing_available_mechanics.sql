-- routing_available_mechanics: THE eligibility rule of routing, in one place. A mechanic
-- can be offered and can accept a request when they are active and available and either
-- independent or working for an active workshop (pending and suspended workshops' mechanics
-- are excluded everywhere). Inlined by the planner; the functions of routing read it.
-- (The mechanic row-level-security policy of migration 0010 spells out the same rule.)
CREATE OR REPLACE VIEW ssr_private.routing_available_mechanics AS
SELECT
    m.id AS mechanic_id,
    m.workshop_id,
    m.rating
FROM mechanics AS m
LEFT JOIN organizations AS o ON m.workshop_id = o.id
WHERE
    m.status = 'active'
    AND m.is_available
    AND (m.workshop_id IS NULL OR o.status = 'active');

COMMENT ON VIEW ssr_private.routing_available_mechanics IS
'Mechanics routing may use right now: active, available, independent or of an active workshop.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.workshop_id IS 'Their workshop (active), NULL for independents.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.rating IS 'Their cached rating, used to order candidates.';
