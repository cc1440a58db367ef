-- session_requests_mechanic_select: the row-level-security policy of the role mechanic on
-- session_requests (not a view: it lives here because it reads the view
-- routing_available_mechanics, which exists only once db/views is applied).
-- Inputs: app.mechanic_id (or request.jwt.claims.mechanic_id) via routing_current_mechanic_id().
-- A mechanic sees the requests they accepted, and the pending ones offered to them now:
-- not expired, the mechanic eligible (routing_available_mechanics: active, available,
-- workshop active, below capacity), routing_offer_score not NULL (workshop_only, hybrid
-- window) and not declined by them. The same rule as get_mechanic_offers and
-- accept_session_request (a property test keeps the three equal). No errors: rows are hidden.
DROP POLICY IF EXISTS session_requests_mechanic_select ON session_requests;
CREATE POLICY session_requests_mechanic_select ON session_requests
FOR SELECT TO mechanic
USING (
    mechanic_id = routing_current_mechanic_id()
    OR (
        status = 'pending'
        AND (expires_at IS NULL OR expires_at > now())
        AND NOT routing_current_mechanic_id() = ANY(declined_by)
        AND EXISTS (
            SELECT 1
            FROM routing_available_mechanics AS a
            WHERE
                a.mechanic_id = routing_current_mechanic_id()
                AND routing_offer_score(
                    session_requests.routing_type, session_requests.preferred_workshop_id,
                    session_requests.exclusive_until, a.workshop_id, now()
                ) IS NOT NULL
        )
    )
);
COMMENT ON POLICY session_requests_mechanic_select ON session_requests IS
'A mechanic (role mechanic, id in app.mechanic_id or request.jwt.claims.mechanic_id) sees the pending requests offered '
'to them now (routing_available_mechanics, routing_offer_score, not declined: same rule as get_mechanic_offers) and '
'the requests they accepted.';
