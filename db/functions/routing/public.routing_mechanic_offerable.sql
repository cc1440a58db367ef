-- routing_mechanic_offerable: THE rule of who may take work now, in one place.
-- Inputs: the mechanic's status and is_available, their workshop_id (NULL: independent),
-- that workshop's status, the mechanic's open_sessions and capacity. Returns TRUE when
-- routing may offer them requests and they may accept now: eligible
-- (routing_mechanic_eligible: active, available, independent or of an active workshop)
-- and below capacity (open_sessions < capacity). No errors.
-- Called by the view ssr_private.routing_offerable_mechanics (routing, offers, accept,
-- decline, the sweep) and the mechanic row-level-security policy on session_requests.
-- A plain SQL expression (no coalesce around it): the planner inlines it, and the call of
-- routing_mechanic_eligible inside it, so partial indexes on (is_available AND status =
-- 'active') still match. NULL only for NULL arguments, which the tables do not allow.
CREATE OR REPLACE FUNCTION routing_mechanic_offerable(
    p_status text,
    p_is_available boolean,
    p_workshop_id uuid,
    p_workshop_status text,
    p_open_sessions integer,
    p_capacity integer
) RETURNS boolean
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT
        routing_mechanic_eligible(p_status, p_is_available, p_workshop_id, p_workshop_status)
        AND p_open_sessions < p_capacity
$$;

COMMENT ON FUNCTION routing_mechanic_offerable(text, boolean, uuid, text, integer, integer) IS
'Who may take work now: routing_mechanic_eligible and open_sessions < capacity. The only copy of the capacity rule.';
