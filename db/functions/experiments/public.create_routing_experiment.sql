-- create_routing_experiment: an admin defines an experiment on routing policies (state draft;
-- start_routing_experiment runs it). p_definition (JSON object):
--   name (required; lower case, digits, _ -), description, unit ('customer' | 'switchback'),
--   window_seconds and grouping ('marketplace' | 'preferred_workshop') for switchback only,
--   routing_types (array of workshop_only, hybrid, broadcast; absent: all), seed (integer;
--   absent: random), guardrails (array of {metric: expiry_rate | refund_rate | no_show_rate |
--   cancel_rate, max: 0-1, min_requests: >= 1, default 50}),
--   arms (2-10 of {name, weight > 0, control: boolean, params: {parameter: value}}): the
--   weights sum to 1; exactly one control (absent: the first arm); the parameters the arms
--   set are the experiment's, each a registered routing parameter (routing_parameters), the
--   values checked by the policy rules; the arms differ. Each arm gets a routing policy:
--   the default policy's parameters with the arm's params (routing_policies, immutable).
-- Acts for staff at admin level (ssr_private.assert_staff) and is audited
-- (staff_action_record 'experiment_created'). Returns the experiment row.
-- Errors (each writes nothing): SR403 not an admin; SR400 (COLUMN the field) a bad field,
-- weights not summing to 1, no or two controls, an unknown parameter, no parameter, arms
-- alike; SR409 (COLUMN name) the name exists; SR409 (COLUMN arms) a parameter is varied by a
-- running experiment.
CREATE OR REPLACE FUNCTION create_routing_experiment(p_staff_id uuid, p_definition jsonb)
RETURNS routing_experiments
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    d jsonb := p_definition;
    v_exp routing_experiments;
    v_arm jsonb;
    v_i integer := 0;
    v_sum numeric := 0;
    v_controls integer := 0;
    v_names text[] := '{}'::text[];
    v_params text[];
    v_bad text;
    v_base jsonb;
    v_policy bigint;
    v_guard jsonb;
    v_busy record;
    v_unit text;
BEGIN
    PERFORM ssr_private.assert_staff(p_staff_id, 'admin');
    IF d IS NULL OR jsonb_typeof(d) <> 'object' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'definition must be a JSON object', COLUMN = 'definition';
    END IF;
    IF NOT coalesce(d ->> 'name', '') ~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'name is required: lower case letters, digits, _ and -, at most 63', COLUMN = 'name';
    END IF;
    IF EXISTS (SELECT 1 FROM routing_experiments AS e WHERE e.name = d ->> 'name') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409', MESSAGE = format('experiment %L exists', d ->> 'name'), COLUMN = 'name';
    END IF;
    v_unit := coalesce(d ->> 'unit', '');
    IF v_unit NOT IN ('customer', 'switchback') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'unit must be customer or switchback', COLUMN = 'unit';
    END IF;
    IF v_unit = 'switchback' AND NOT coalesce(
        jsonb_typeof(d -> 'window_seconds') = 'number' AND (d ->> 'window_seconds')::numeric BETWEEN 60 AND 604800
        AND (d ->> 'window_seconds')::numeric = trunc((d ->> 'window_seconds')::numeric),
        FALSE
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'switchback needs window_seconds, a whole number of seconds from 60 to 604800',
            COLUMN = 'window_seconds';
    END IF;
    IF v_unit = 'switchback' AND coalesce(d ->> 'grouping', '') NOT IN ('marketplace', 'preferred_workshop') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'switchback needs grouping marketplace or preferred_workshop', COLUMN = 'grouping';
    END IF;
    IF v_unit = 'customer' AND (d ? 'window_seconds' OR d ? 'grouping') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'window_seconds and grouping are for switchback experiments only', COLUMN = 'unit';
    END IF;
    IF d ? 'routing_types' AND NOT coalesce(
        jsonb_typeof(d -> 'routing_types') = 'array' AND jsonb_array_length(d -> 'routing_types') > 0
        AND NOT EXISTS (
            SELECT 1 FROM jsonb_array_elements(d -> 'routing_types') AS t
            WHERE NOT coalesce(t #>> '{}', '') IN ('workshop_only', 'hybrid', 'broadcast')
        ),
        FALSE
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'routing_types must be a non-empty array of workshop_only, hybrid, broadcast',
            COLUMN = 'routing_types';
    END IF;
    IF d ? 'seed' AND NOT coalesce(jsonb_typeof(d -> 'seed') = 'number' AND (d ->> 'seed') ~ '^-?[0-9]{1,18}$', FALSE)
        THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'seed must be an integer', COLUMN = 'seed';
    END IF;

    -- Guardrails.
    IF d ? 'guardrails' AND jsonb_typeof(d -> 'guardrails') <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'guardrails must be an array', COLUMN = 'guardrails';
    END IF;
    FOR v_guard IN SELECT g FROM jsonb_array_elements(coalesce(d -> 'guardrails', '[]')) AS g LOOP
        IF NOT coalesce(
            jsonb_typeof(v_guard) = 'object'
            AND coalesce(v_guard ->> 'metric', '') IN ('expiry_rate', 'refund_rate', 'no_show_rate', 'cancel_rate')
            AND jsonb_typeof(v_guard -> 'max') = 'number' AND (v_guard ->> 'max')::numeric BETWEEN 0 AND 1
            AND (
                NOT v_guard ? 'min_requests'
                OR jsonb_typeof(v_guard -> 'min_requests') = 'number' AND (v_guard ->> 'min_requests') ~ '^[1-9][0-9]{0,8}$'
            ),
            FALSE
        ) THEN
            RAISE EXCEPTION USING ERRCODE = 'SR400',
                MESSAGE = format(
                    'guardrail %s: needs metric (expiry_rate, refund_rate, no_show_rate, cancel_rate), max in 0-1, '
                    'min_requests >= 1', v_guard
                ),
                COLUMN = 'guardrails';
        END IF;
    END LOOP;

    -- Arms.
    IF jsonb_typeof(d -> 'arms') IS DISTINCT FROM 'array' OR jsonb_array_length(d -> 'arms') NOT BETWEEN 2 AND 10 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'arms must be an array of 2 to 10 arms', COLUMN = 'arms';
    END IF;
    FOR v_arm IN SELECT a FROM jsonb_array_elements(d -> 'arms') AS a LOOP
        IF jsonb_typeof(v_arm) <> 'object' OR NOT coalesce(v_arm ->> 'name', '') ~ '^[a-z][a-z0-9_-]{0,30}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'SR400',
                MESSAGE = 'each arm needs a name: lower case letters, digits, _ and -, at most 31', COLUMN = 'arms';
        END IF;
        IF v_arm ->> 'name' = ANY(v_names) THEN
            RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = format('arm %L twice', v_arm ->> 'name'), COLUMN = 'arms';
        END IF;
        v_names := v_names || (v_arm ->> 'name');
        IF jsonb_typeof(v_arm -> 'weight') IS DISTINCT FROM 'number' OR (v_arm ->> 'weight')::numeric <= 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'SR400',
                MESSAGE = format('arm %L: weight must be a number above 0', v_arm ->> 'name'), COLUMN = 'arms';
        END IF;
        v_sum := v_sum + (v_arm ->> 'weight')::numeric;
        IF v_arm ? 'control' AND jsonb_typeof(v_arm -> 'control') <> 'boolean' THEN
            RAISE EXCEPTION USING ERRCODE = 'SR400',
                MESSAGE = format('arm %L: control must be true or false', v_arm ->> 'name'), COLUMN = 'arms';
        END IF;
        v_controls := v_controls + CASE WHEN (v_arm ->> 'control')::boolean THEN 1 ELSE 0 END;
        IF jsonb_typeof(coalesce(v_arm -> 'params', '{}')) <> 'object' THEN
            RAISE EXCEPTION USING ERRCODE = 'SR400',
                MESSAGE = format('arm %L: params must be an object', v_arm ->> 'name'), COLUMN = 'arms';
        END IF;
    END LOOP;
    IF abs(v_sum - 1) > 0.000001 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = format('the arms'' weights must sum to 1 (got %s)', v_sum),
            COLUMN = 'arms';
    END IF;
    IF v_controls > 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'exactly one arm is the control (got several)', COLUMN = 'arms';
    END IF;
    SELECT array_agg(DISTINCT k ORDER BY k) INTO v_params
    FROM jsonb_array_elements(d -> 'arms') AS a CROSS JOIN LATERAL jsonb_object_keys(coalesce(a -> 'params', '{}')) AS k;
    IF v_params IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'the arms set no parameter: nothing to compare',
            COLUMN = 'arms';
    END IF;
    SELECT k INTO v_bad FROM unnest(v_params) AS k WHERE NOT EXISTS (SELECT 1 FROM routing_parameters AS p WHERE p.name = k)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = format('unknown routing parameter %L', v_bad), COLUMN = 'arms';
    END IF;
    SELECT v_base0.params INTO v_base FROM routing_policies AS v_base0 WHERE v_base0.is_default;
    v_base := coalesce(v_base, '{}');
    IF (
        SELECT count(DISTINCT ssr_private.routing_policy_params(NULL) || v_base || coalesce(a -> 'params', '{}'))
        FROM jsonb_array_elements(d -> 'arms') AS a
    ) < jsonb_array_length(d -> 'arms') THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'two arms route alike: each arm must differ', COLUMN = 'arms';
    END IF;
    SELECT x.parameter, e.name AS experiment INTO v_busy
    FROM routing_experiment_running AS x INNER JOIN routing_experiments AS e ON x.experiment_id = e.id
    WHERE x.parameter = ANY(v_params) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format('parameter %L is varied by the running experiment %L', v_busy.parameter, v_busy.experiment),
            COLUMN = 'arms';
    END IF;

    INSERT INTO routing_experiments (
        name, description, unit, window_seconds, grouping, routing_types, seed, guardrails, created_by
    ) VALUES (
        d ->> 'name', nullif(btrim(d ->> 'description'), ''), v_unit,
        CASE WHEN v_unit = 'switchback' THEN (d ->> 'window_seconds')::integer END,
        CASE WHEN v_unit = 'switchback' THEN d ->> 'grouping' END,
        (SELECT array_agg(DISTINCT t ORDER BY t) FROM jsonb_array_elements_text(d -> 'routing_types') AS t),
        coalesce((d ->> 'seed')::bigint, (random() * 9007199254740991)::bigint),
        coalesce(d -> 'guardrails', '[]'),
        p_staff_id
    )
    RETURNING * INTO v_exp;
    INSERT INTO routing_experiment_parameters (experiment_id, parameter)
    SELECT v_exp.id, k FROM unnest(v_params) AS k;

    FOR v_arm IN SELECT a FROM jsonb_array_elements(d -> 'arms') AS a LOOP
        INSERT INTO routing_policies (name, description, params)
        VALUES (
            format('exp%s-%s', v_exp.id, v_arm ->> 'name'),
            format('Arm %s of experiment %s.', v_arm ->> 'name', v_exp.name),
            v_base || coalesce(v_arm -> 'params', '{}')
        )
        RETURNING id INTO v_policy;
        INSERT INTO routing_experiment_arms (
            experiment_id, arm, ordinal, weight, is_control, routing_policy_id, overrides
        ) VALUES (
            v_exp.id, v_arm ->> 'name', v_i, (v_arm ->> 'weight')::numeric,
            CASE WHEN v_controls = 0 THEN v_i = 0 ELSE coalesce((v_arm ->> 'control')::boolean, FALSE) END,
            v_policy, coalesce(v_arm -> 'params', '{}')
        );
        v_i := v_i + 1;
    END LOOP;

    PERFORM ssr_private.staff_action_record(
        p_staff_id, 'experiment_created', 'routing_experiment:' || v_exp.id, jsonb_build_object('definition', d)
    );
    RETURN v_exp;
END
$$;

COMMENT ON FUNCTION create_routing_experiment(uuid, jsonb) IS
'An admin defines an experiment on routing policies (draft): unit, arms with weights and parameters, guardrails. '
'Bad definitions are SR400/SR409 and write nothing.';
