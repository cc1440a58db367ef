-- ssr_private.routing_offerable_mechanics: the mechanics who may be offered a request and
-- accept it now, by THE rule of who takes work (routing_mechanic_offerable: eligible by
-- routing_mechanic_eligible, i.e. active, available, independent or of an active workshop,
-- and below capacity: fewer sessions, waiting after accept or live, than
-- mechanics.capacity). get_mechanics_for_routing, get_mechanic_offers,
-- accept_session_request, decline_session_request and the sweep read this view; the
-- mechanic row-level-security policy calls the same function (the role may not read
-- ssr_private). routing_available_mechanics stays the presence rule
-- that the maintained counts (workshop_stats, routing_candidates) follow. Race safety of the
-- capacity: accept_session_request locks the mechanic's row (after the request's), so one
-- mechanic's accepts run one after another and each sees the previous one's slot.
-- Working hours: the maintained flag in_hours (the counts' rule) and, for mechanics whom
-- hours concern (hours_scheduled), the hours at this instant (ssr_private.hours_open_at): no
-- offer and no accept outside hours, whatever the job's delay.
-- Inlined by the planner. No inputs, no errors.
CREATE OR REPLACE VIEW ssr_private.routing_offerable_mechanics AS
SELECT
    m.id AS mechanic_id,
    m.workshop_id,
    m.rating
FROM mechanics AS m
LEFT JOIN organizations AS o ON m.workshop_id = o.id
WHERE
    routing_mechanic_offerable(
        m.status, m.is_available AND m.in_hours, m.workshop_id, o.status, m.open_sessions, m.capacity
    )
    AND (NOT m.hours_scheduled OR ssr_private.hours_open_at(m.id, m.workshop_id, now()));

COMMENT ON VIEW ssr_private.routing_offerable_mechanics IS
'Mechanics who may be offered requests and accept now: eligible (routing_mechanic_eligible) and below capacity '
'(open_sessions < capacity).';
COMMENT ON COLUMN ssr_private.routing_offerable_mechanics.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN ssr_private.routing_offerable_mechanics.workshop_id IS 'Their workshop (active), NULL for independents.';
COMMENT ON COLUMN ssr_private.routing_offerable_mechanics.rating IS 'Their cached rating, used to order candidates.';
