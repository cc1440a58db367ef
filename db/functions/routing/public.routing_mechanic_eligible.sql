-- routing_mechanic_eligible: THE eligibility rule of routing, in one place.
-- Inputs: the mechanic's status and is_available, their workshop_id (NULL: independent)
-- and that workshop's status. Returns TRUE when routing may offer them requests and
-- they may accept: active, available, and independent or of an active workshop
-- (pending and suspended workshops' mechanics are excluded everywhere). No errors.
-- Called by the view routing_available_mechanics, the mechanic row-level-security
-- policy, the counting triggers (workshop_stats, routing_candidates) and their rebuild.
-- A plain SQL expression (no coalesce around it): the planner inlines it, so partial
-- indexes on (is_available AND status = 'active') still match. NULL only for NULL
-- status or availability, which the table does not allow.
CREATE OR REPLACE FUNCTION routing_mechanic_eligible(
    p_status text,
    p_is_available boolean,
    p_workshop_id uuid,
    p_workshop_status text
) RETURNS boolean
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT
        p_status = 'active'
        AND p_is_available
        AND (p_workshop_id IS NULL OR p_workshop_status IS NOT DISTINCT FROM 'active')
$$;

COMMENT ON FUNCTION routing_mechanic_eligible(text, boolean, uuid, text) IS
'The routing eligibility rule: active, available, independent or of an active workshop. The only copy of the rule.';
