-- routing_available_mechanics: the mechanics routing may use now: the eligibility rule
-- routing_mechanic_eligible (active and available, independent or of an active workshop;
-- pending and suspended workshops' mechanics are excluded everywhere) and below their
-- capacity: they hold fewer sessions (waiting after accept, or live) than
-- mechanics.capacity. Inlined by the planner; routing (get_mechanics_for_routing,
-- create_session_request, the sweep), get_mechanic_offers, accept_session_request,
-- decline_session_request read it; the mechanic row-level-security policy of
-- session_requests (db/views/session_requests_mechanic_select.sql) spells out the capacity
-- predicate beside routing_mechanic_eligible (the role may not read this private view). Race safety of the
-- capacity: accept_session_request locks the mechanic's row (after the request's), so one
-- mechanic's accepts run one after another and each sees the previous one's slot.
CREATE OR REPLACE VIEW ssr_private.routing_available_mechanics AS
SELECT
    m.id AS mechanic_id,
    m.workshop_id,
    m.rating
FROM mechanics AS m
LEFT JOIN organizations AS o ON m.workshop_id = o.id
WHERE
    routing_mechanic_eligible(m.status, m.is_available, m.workshop_id, o.status)
    AND m.open_sessions < m.capacity;

COMMENT ON VIEW ssr_private.routing_available_mechanics IS
'Mechanics routing may use right now: active, available, independent or of an active workshop, and below capacity '
'(open_sessions < capacity).';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.workshop_id IS 'Their workshop (active), NULL for independents.';
COMMENT ON COLUMN ssr_private.routing_available_mechanics.rating IS 'Their cached rating, used to order candidates.';
