-- default_policy_params: every parameter of the default routing policy
-- (ssr_private.routing_policy_params of the policy marked is_default; the registry's defaults
-- when none is). What is not a request's own reads it: a mechanic's presence (grace, auto-away,
-- the heartbeat's throttle) and the maintained rank scores (mechanic_rankings, the directory's
-- prior). SECURITY DEFINER: the row policies' and the pages' callers may not read the policies.
-- No errors.
CREATE OR REPLACE FUNCTION ssr_private.default_policy_params()
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT ssr_private.routing_policy_params((SELECT p.id FROM routing_policies AS p WHERE p.is_default))
$$;

COMMENT ON FUNCTION ssr_private.default_policy_params() IS
'The default routing policy''s parameters: what presence and the maintained rank scores read.';
