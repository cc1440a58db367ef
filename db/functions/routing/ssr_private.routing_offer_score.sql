-- routing_offer_score: THE routing score, in one place (inlined by the planner): the part of
-- the offer rule (ssr_private.routing_offered) given by the routing type and window, also
-- the audiences of ssr_private.routing_publish and the scores of get_mechanics_for_routing.
-- The priority score of a request for a mechanic of workshop p_mechanic_workshop_id
-- (NULL: independent) at p_now, or NULL when the request is not offered to that mechanic.
--   workshop_only: 100 for the preferred workshop's mechanics, nobody else.
--   hybrid: preferred workshop 100; other workshops 50 and independents 25, but only
--           once the exclusive window (p_exclusive_until, NULL = none) has passed.
--   broadcast: 50 for everyone.
-- Mechanic eligibility (active, available, workshop active, capacity) is checked by the
-- callers (routing_mechanic_offerable); the request's state by routing_offered.
CREATE OR REPLACE FUNCTION ssr_private.routing_offer_score(
    p_routing_type text,
    p_preferred_workshop_id uuid,
    p_exclusive_until timestamptz,
    p_mechanic_workshop_id uuid,
    p_now timestamptz
) RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
SELECT CASE
    WHEN p_routing_type = 'broadcast' THEN 50
    WHEN p_routing_type = 'workshop_only'
        THEN CASE WHEN p_mechanic_workshop_id = p_preferred_workshop_id THEN 100 END
    WHEN p_routing_type = 'hybrid' THEN
        CASE
            WHEN p_mechanic_workshop_id = p_preferred_workshop_id THEN 100
            WHEN p_exclusive_until IS NOT NULL AND p_exclusive_until > p_now THEN NULL
            WHEN p_mechanic_workshop_id IS NOT NULL THEN 50
            ELSE 25
        END
END
$$;

COMMENT ON FUNCTION ssr_private.routing_offer_score(text, uuid, timestamptz, uuid, timestamptz) IS
'Priority score of a request for a mechanic of the given workshop at a given time; NULL when not offered to them.';
