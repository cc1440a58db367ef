-- ranking_params: the parameters the maintained rank scores (mechanic_rankings) are computed
-- with: those of the default routing policy (ssr_private.routing_policy_params; the
-- registry's defaults when there is no default policy). No errors.
CREATE OR REPLACE FUNCTION ssr_private.ranking_params()
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT ssr_private.routing_policy_params((SELECT p.id FROM routing_policies AS p WHERE p.is_default))
$$;

COMMENT ON FUNCTION ssr_private.ranking_params() IS 'The default routing policy''s parameters, which mechanic_rankings is computed with.';
