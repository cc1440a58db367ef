-- routing_policy_for_request: the routing policy a new request is routed under: the preferred
-- workshop's own policy when it has one, else the default policy (routing_policies.is_default).
-- NULL only if no policy is marked default (then the registry's defaults apply).
CREATE OR REPLACE FUNCTION ssr_private.routing_policy_for_request(
    p_customer_id uuid,
    p_preferred_workshop_id uuid,
    p_routing_type text
) RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = public, pg_temp
AS $$
SELECT coalesce(
    (SELECT o.routing_policy_id FROM organizations AS o WHERE o.id = p_preferred_workshop_id),
    (SELECT p.id FROM routing_policies AS p WHERE p.is_default)
)
$$;

COMMENT ON FUNCTION ssr_private.routing_policy_for_request(uuid, uuid, text) IS
'The routing policy a new request gets: its preferred workshop''s own, else the default.';
