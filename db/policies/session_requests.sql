-- session_requests_mechanic_select: the row-level-security policy of the role mechanic on
-- session_requests (not a view: it lives with the repeatable objects so that it is applied
-- after every numbered migration, whatever a migration set before).
-- Input: the verified mechanic of the transaction, ssr_private.current_mechanic_id() (the sub
-- of request.jwt.claims whose role is mechanic; an app.mechanic_id the session set itself is
-- ignored). A mechanic sees the requests they accepted and the pending ones offered to them
-- now: not expired, the mechanic may take work (routing_mechanic_offerable, the one rule of
-- eligibility and capacity that ssr_private.routing_offerable_mechanics also calls; this
-- role may not read that view), the workshop_only and hybrid-window rules, not declined by
-- them. No identity: nothing. No errors: rows are hidden. A property test keeps it equal to
-- get_mechanic_offers and a Python model.
ALTER POLICY session_requests_mechanic_select ON session_requests
USING (
    mechanic_id = (SELECT ssr_private.current_mechanic_id())
    OR (
        status = 'pending'
        AND (expires_at IS NULL OR expires_at > now())
        AND EXISTS (
            SELECT 1
            FROM mechanics AS m
            LEFT JOIN organizations AS o ON m.workshop_id = o.id
            WHERE
                m.id = (SELECT ssr_private.current_mechanic_id())
                AND routing_mechanic_offerable(
                    m.status, m.is_available, m.workshop_id, o.status, m.open_sessions, m.capacity
                )
                AND NOT m.id = ANY(session_requests.declined_by)
                AND (
                    session_requests.routing_type = 'broadcast'
                    OR (
                        session_requests.routing_type = 'workshop_only'
                        AND m.workshop_id = session_requests.preferred_workshop_id
                    )
                    OR (
                        session_requests.routing_type = 'hybrid'
                        AND (
                            m.workshop_id = session_requests.preferred_workshop_id
                            OR session_requests.exclusive_until IS NULL
                            OR session_requests.exclusive_until <= now()
                        )
                    )
                )
        )
    )
);
COMMENT ON POLICY session_requests_mechanic_select ON session_requests IS
'A mechanic (role mechanic, identity ssr_private.current_mechanic_id(): the sub of request.jwt.claims whose role '
'is mechanic) sees the pending requests offered to them now (same rule as get_mechanic_offers: eligible, below '
'capacity, not declined) and those they accepted.';
