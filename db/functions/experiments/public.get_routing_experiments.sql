-- get_routing_experiments: the staff experiments page: every routing experiment, newest
-- first, with its arms (weight, control, overrides, guardrail stop) and each arm's results
-- from analytics.experiment_results. Staff at support level or above (read only). Returns a
-- JSON array. Errors: SR400/SR403 of ssr_private.assert_staff.
CREATE OR REPLACE FUNCTION get_routing_experiments(p_staff_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');
    RETURN coalesce((
        SELECT jsonb_agg(x.j ORDER BY x.id DESC)
        FROM (
            SELECT
                e.id,
                to_jsonb(e) || jsonb_build_object(
                    'parameters', (
                        SELECT jsonb_agg(p.parameter ORDER BY p.parameter)
                        FROM routing_experiment_parameters AS p WHERE p.experiment_id = e.id
                    ),
                    'arms', (
                        SELECT jsonb_agg(to_jsonb(r) ORDER BY a.ordinal)
                        FROM routing_experiment_arms AS a
                        INNER JOIN analytics.experiment_results AS r ON a.experiment_id = r.experiment_id AND a.arm = r.arm
                        WHERE a.experiment_id = e.id
                    )
                ) AS j
            FROM routing_experiments AS e
        ) AS x
    ), '[]');
END
$$;

COMMENT ON FUNCTION get_routing_experiments(uuid) IS
'Staff: every routing experiment with its arms and their results (JSON array, newest first).';
