-- routing_policy_params: every parameter of a routing policy, as one JSON object: the
-- registry's defaults (routing_parameters), overridden by what the policy sets. NULL policy
-- (a request made before routing policies): the defaults alone. Unknown policy: SR404.
-- The engine reads a parameter as (ssr_private.routing_policy_params(id) ->> 'name')::<kind>.
CREATE OR REPLACE FUNCTION ssr_private.routing_policy_params(p_policy_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb := '{}'::jsonb;
    v_defaults jsonb;
BEGIN
    IF p_policy_id IS NOT NULL THEN
        SELECT p.params INTO v_params FROM routing_policies AS p WHERE p.id = p_policy_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR404', MESSAGE = format('routing policy %s: no such policy', p_policy_id),
                COLUMN = 'routing_policy_id';
        END IF;
    END IF;
    SELECT coalesce(jsonb_object_agg(rp.name, rp.default_value), '{}') INTO v_defaults
    FROM routing_parameters AS rp;
    RETURN v_defaults || v_params;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_policy_params(bigint) IS
'Every parameter of a routing policy (the registry''s defaults overridden by the policy''s own), as a JSON object.';
