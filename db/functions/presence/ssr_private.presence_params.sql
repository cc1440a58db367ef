-- presence_params: the parameters presence reads (presence_grace_seconds,
-- presence_away_after_timeouts, presence_heartbeat_write_seconds): a mechanic's presence
-- is theirs, not a request's, so they come from the default routing policy (the
-- registry's defaults when there is none). No errors.
CREATE OR REPLACE FUNCTION ssr_private.presence_params()
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = public, pg_temp
AS $$
SELECT ssr_private.routing_policy_params((SELECT p.id FROM routing_policies AS p WHERE p.is_default))
$$;

COMMENT ON FUNCTION ssr_private.presence_params() IS
'The routing parameters of the default policy, which presence reads (grace, auto-away, heartbeat throttle).';

REVOKE ALL ON FUNCTION ssr_private.presence_params() FROM PUBLIC;
