-- session_requests_mechanic_select: the row-level-security policy of the role mechanic on
-- session_requests (not a view: it lives with the repeatable objects so that it is applied
-- after every numbered migration, whatever a migration set before).
-- Input: the verified mechanic of the transaction, ssr_private.current_mechanic_id() (the sub
-- of request.jwt.claims whose role is mechanic; an app.mechanic_id the session set itself is
-- ignored). A mechanic sees the requests they accepted and the pending ones offered to them
-- now: the mechanic may take work (routing_mechanic_offerable, the one rule of eligibility
-- and capacity that ssr_private.routing_offerable_mechanics also calls; this role may not
-- read that view) and the request is offered to them (ssr_private.routing_offered, the one
-- offer rule of get_mechanic_offers and accept_session_request: pending, not expired, not
-- declined, workshop_only and hybrid-window rules), and, while it is offered in waves, only to
-- those holding a live offer (ssr_private.offer_held_live, as get_mechanic_offers and accept
-- do through offer_targeted_allows). "status = 'pending'" only bounds the
-- rows the rule is asked about. The role mechanic executes both rule functions. No
-- identity: nothing. No errors: rows are hidden. A property test keeps it equal to
-- get_mechanic_offers, accept and a Python model.
ALTER POLICY session_requests_mechanic_select ON session_requests
USING (
    mechanic_id = (SELECT ssr_private.current_mechanic_id())
    OR (
        status = 'pending'
        AND EXISTS (
            SELECT 1
            FROM mechanics AS m
            LEFT JOIN organizations AS o ON m.workshop_id = o.id
            WHERE
                m.id = (SELECT ssr_private.current_mechanic_id())
                AND routing_mechanic_offerable(
                    m.status, m.is_available AND m.in_hours, m.workshop_id, o.status, m.open_sessions, m.capacity
                )
                AND (NOT m.hours_scheduled OR ssr_private.hours_open_at(m.id, m.workshop_id, now()))
                AND ssr_private.routing_offered(session_requests, m.id, m.workshop_id, now())  -- noqa: RF02
                -- in a targeted stage (waves), only to the mechanics holding a live offer of it
                AND (
                    session_requests.targeted_until IS NULL  -- noqa: RF02
                    OR session_requests.targeted_until <= now()  -- noqa: RF02
                    OR ssr_private.offer_held_live(session_requests.id, m.id, now())  -- noqa: RF02
                )
        )
    )
);
COMMENT ON POLICY session_requests_mechanic_select ON session_requests IS
'A mechanic (role mechanic, identity ssr_private.current_mechanic_id(): the sub of request.jwt.claims whose role '
'is mechanic) sees the pending requests offered to them now (same rule as get_mechanic_offers: eligible, below '
'capacity, ssr_private.routing_offered) and those they accepted.';
