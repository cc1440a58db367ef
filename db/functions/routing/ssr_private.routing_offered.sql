-- routing_offered: THE offer rule, in one place: is request p_request offered now (p_now)
-- to mechanic p_mechanic_id of workshop p_mechanic_workshop_id (NULL: independent)?
-- TRUE when the request is pending, not past expires_at, not declined by that mechanic,
-- and its routing type and window give that mechanic a score (routing_offer_score);
-- during the returning customer's window (returning_until) only to their previous mechanic
-- (unless that mechanic declined it); and while the request's required skills hold (until
-- skills_relax_at; NULL: never relaxed) only to mechanics who have them all
-- (ssr_private.mechanic_skills, read only for such requests). Working hours are the
-- mechanic's side (routing_offerable_mechanics). The
-- mechanic's own side (active, available, workshop active, below capacity) is the rule
-- routing_mechanic_offerable, which the callers apply to the mechanic's row
-- (routing_offerable_mechanics). Called by get_mechanic_offers, accept_session_request,
-- decline_session_request and the mechanic row-level-security policy on session_requests
-- (the role mechanic executes it for that policy). No errors.
-- A plain SQL expression, AND of simple terms: the planner inlines it (and
-- routing_offer_score inside it), so "status = 'pending'" reaches the partial indexes on
-- pending requests and the callers' plans stay index-driven.
CREATE OR REPLACE FUNCTION ssr_private.routing_offered(
    p_request session_requests,
    p_mechanic_id uuid,
    p_mechanic_workshop_id uuid,
    p_now timestamptz
) RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
SELECT
    (p_request).status = 'pending'
    AND ((p_request).expires_at IS NULL OR (p_request).expires_at > p_now)
    AND NOT p_mechanic_id = ANY((p_request).declined_by)
    AND ssr_private.routing_offer_score(
        (p_request).routing_type, (p_request).preferred_workshop_id, (p_request).exclusive_until,
        p_mechanic_workshop_id, p_now
    ) IS NOT NULL
    AND (
        (p_request).returning_until IS NULL
        OR (p_request).returning_until <= p_now
        OR p_mechanic_id = (p_request).returning_mechanic_id
        OR (p_request).returning_mechanic_id = ANY((p_request).declined_by)
    )
    AND CASE
        WHEN
            (p_request).required_skills IS NULL OR cardinality((p_request).required_skills) = 0
            OR (p_request).skills_relax_at <= p_now
            THEN TRUE
        ELSE (p_request).required_skills <@ coalesce(ssr_private.mechanic_skills(p_mechanic_id), '{}')
    END
$$;

COMMENT ON FUNCTION ssr_private.routing_offered(session_requests, uuid, uuid, timestamptz) IS
'The offer rule: pending, not expired, not declined by the mechanic, scored for their workshop '
'(routing_offer_score) at the given time, the returning customer''s window and the required skills. The only copy '
'of the rule.';
