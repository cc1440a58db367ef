-- routing_policy_for_request: the routing policy a new request is routed under: the arm's
-- policy when a running experiment enrols it (ssr_private.routing_assignment, which also
-- says the experiment, arm, unit and window), else the preferred workshop's own policy
-- when it has one, else the default policy (routing_policies.is_default). NULL only if no
-- policy is marked default (then the registry's defaults apply). Switchback windows are
-- read at now() (session_request_insert calls routing_assignment with its own time).
CREATE OR REPLACE FUNCTION ssr_private.routing_policy_for_request(
    p_customer_id uuid,
    p_preferred_workshop_id uuid,
    p_routing_type text
) RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = public, pg_temp
AS $$
SELECT a.routing_policy_id
FROM ssr_private.routing_assignment(p_customer_id, p_preferred_workshop_id, p_routing_type, now()) AS a
$$;

COMMENT ON FUNCTION ssr_private.routing_policy_for_request(uuid, uuid, text) IS
'The routing policy a new request gets: a running experiment''s arm, else its preferred workshop''s own, else the default.';
