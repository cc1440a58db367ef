-- routing_policies_check_trg: a policy sets only registered parameters, each of its kind and
-- within its bounds (SR400 naming the parameter); its parameters never change once created
-- (SR409: create a new policy), so every request keeps the rules it was routed under.
CREATE OR REPLACE FUNCTION ssr_private.routing_policies_check_trg()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_key text;
    v_value jsonb;
    v_param routing_parameters;
    v_type text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.params IS DISTINCT FROM OLD.params THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('routing policy %L: parameters never change once created; create a new policy', OLD.name),
            COLUMN = 'params';
    END IF;
    IF jsonb_typeof(NEW.params) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'params must be a JSON object', COLUMN = 'params';
    END IF;
    FOR v_key, v_value IN SELECT e.key, e.value FROM jsonb_each(NEW.params) AS e LOOP
        SELECT * INTO v_param FROM routing_parameters AS rp WHERE rp.name = v_key;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400', MESSAGE = format('unknown routing parameter %L', v_key), COLUMN = 'params';
        END IF;
        v_type := jsonb_typeof(v_value);
        CONTINUE WHEN v_type = 'null' AND v_param.nullable;
        IF NOT (
            v_param.kind = 'boolean' AND v_type = 'boolean'
            OR v_param.kind = 'text' AND v_type = 'string'
            OR v_param.kind = 'number' AND v_type = 'number'
            OR v_param.kind = 'integer' AND v_type = 'number' AND v_value::numeric = trunc(v_value::numeric)
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = format('routing parameter %L must be %s (got %s)', v_key, v_param.kind, v_value),
                COLUMN = 'params';
        END IF;
        IF v_param.kind IN ('integer', 'number') AND (
            v_value::numeric < v_param.min_value OR v_value::numeric > v_param.max_value
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = format(
                    'routing parameter %L must be between %s and %s (got %s)',
                    v_key, coalesce(v_param.min_value::text, '-inf'), coalesce(v_param.max_value::text, 'inf'), v_value
                ),
                COLUMN = 'params';
        END IF;
        IF v_param.allowed_values IS NOT NULL AND NOT (v_value #>> '{}') = ANY (v_param.allowed_values) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = format(
                    'routing parameter %L must be one of %s (got %s)', v_key, array_to_string(v_param.allowed_values, ', '), v_value
                ),
                COLUMN = 'params';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_policies_check_trg() IS
'Trigger: a routing policy sets only registered parameters of the right kind and bounds, and never changes them.';
