-- offer_policy_params: the routing parameters the dispatcher reads for a request: those of
-- its policy (session_requests.routing_policy_id), or, while the request has none (made
-- before policies were recorded on requests), of the policy ssr_private.routing_policy_for_request
-- gives it (the preferred workshop's own, else the default): how the policy is chosen is
-- that function's, never repeated here. SR404 for an unknown policy (routing_policy_params).
CREATE OR REPLACE FUNCTION ssr_private.offer_policy_params(p_request session_requests)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = public, pg_temp
AS $$
SELECT ssr_private.routing_policy_params(coalesce(
    p_request.routing_policy_id,
    ssr_private.routing_policy_for_request(p_request.customer_id, p_request.preferred_workshop_id, p_request.routing_type)
))
$$;

COMMENT ON FUNCTION ssr_private.offer_policy_params(session_requests) IS
'The routing parameters of a request''s policy (its own, else the one routing_policy_for_request gives it).';

REVOKE ALL ON FUNCTION ssr_private.offer_policy_params(session_requests) FROM PUBLIC;
