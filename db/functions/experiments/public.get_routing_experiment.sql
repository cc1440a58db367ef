-- get_routing_experiment: the staff page of one routing experiment: the experiment, its
-- parameters, arms with results (analytics.experiment_results), the analysis per metric and
-- arm (ssr_private.experiment_analysis, where the optional PL/Python layer is installed;
-- "analysis": null and "plpython": false otherwise), and its audit (staff actions on it).
-- Staff at support level or above. Returns a JSON object.
-- Errors: SR400/SR403 of assert_staff; SR400 no id; SR404 unknown experiment.
CREATE OR REPLACE FUNCTION get_routing_experiment(p_staff_id uuid, p_experiment_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_exp routing_experiments;
    v_analysis jsonb;
    v_plpython boolean := to_regprocedure('ssr_private.experiment_analysis(bigint,double precision,double precision)')
        IS NOT NULL;
BEGIN
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');
    IF p_experiment_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'experiment_id is required', COLUMN = 'experiment_id';
    END IF;
    SELECT * INTO v_exp FROM routing_experiments AS e WHERE e.id = p_experiment_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('experiment %s: no such experiment', p_experiment_id),
            COLUMN = 'experiment_id';
    END IF;
    IF v_plpython THEN
        EXECUTE 'SELECT coalesce(jsonb_agg(to_jsonb(a)), ''[]'') FROM ssr_private.experiment_analysis($1) AS a'
        INTO v_analysis USING p_experiment_id;
    END IF;
    RETURN to_jsonb(v_exp) || jsonb_build_object(
        'parameters', (
            SELECT jsonb_agg(p.parameter ORDER BY p.parameter)
            FROM routing_experiment_parameters AS p WHERE p.experiment_id = v_exp.id
        ),
        'arms', (
            SELECT jsonb_agg(to_jsonb(r) ORDER BY a.ordinal)
            FROM routing_experiment_arms AS a
            INNER JOIN analytics.experiment_results AS r ON a.experiment_id = r.experiment_id AND a.arm = r.arm
            WHERE a.experiment_id = v_exp.id
        ),
        'plpython', v_plpython,
        'analysis', v_analysis,
        'audit', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'at', s.acted_at, 'action', s.action, 'staff_id', s.staff_id, 'details', s.details
            ) ORDER BY s.id), '[]')
            FROM ssr_private.staff_actions AS s WHERE s.subject = 'routing_experiment:' || v_exp.id
        )
    );
END
$$;

COMMENT ON FUNCTION get_routing_experiment(uuid, bigint) IS
'Staff: one routing experiment with arms, results, analysis (PL/Python layer) and audit (JSON object).';
