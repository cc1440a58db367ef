-- start_routing_experiment: an admin starts a draft experiment: new requests are assigned to
-- its arms from now on. At most one running experiment per parameter: the start claims each
-- of its parameters in routing_experiment_running (primary key), so of two concurrent starts
-- on one parameter exactly one wins, the other waits for it and fails. Audited
-- ('experiment_started'). Returns the experiment row.
-- Errors (writing nothing): SR403 not an admin; SR400 no id; SR404 unknown experiment;
-- SR409 (COLUMN state) not a draft; SR409 (COLUMN parameter) a parameter already varied by a
-- running experiment.
CREATE OR REPLACE FUNCTION start_routing_experiment(p_staff_id uuid, p_experiment_id bigint)
RETURNS routing_experiments
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_exp routing_experiments;
    v_busy record;
BEGIN
    PERFORM ssr_private.assert_staff(p_staff_id, 'admin');
    IF p_experiment_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'experiment_id is required', COLUMN = 'experiment_id';
    END IF;
    SELECT * INTO v_exp FROM routing_experiments AS e WHERE e.id = p_experiment_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('experiment %s: no such experiment', p_experiment_id),
            COLUMN = 'experiment_id';
    END IF;
    IF v_exp.state <> 'draft' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format('experiment %L is %s: only a draft starts', v_exp.name, v_exp.state), COLUMN = 'state';
    END IF;
    BEGIN
        INSERT INTO routing_experiment_running (parameter, experiment_id)
        SELECT p.parameter, v_exp.id FROM routing_experiment_parameters AS p WHERE p.experiment_id = v_exp.id
        ORDER BY p.parameter;
    EXCEPTION WHEN unique_violation THEN
        SELECT x.parameter, e.name AS experiment INTO v_busy
        FROM routing_experiment_running AS x
        INNER JOIN routing_experiments AS e ON x.experiment_id = e.id
        INNER JOIN routing_experiment_parameters AS p ON p.experiment_id = v_exp.id AND x.parameter = p.parameter
        ORDER BY x.parameter LIMIT 1;
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format(
                'parameter %L is varied by the running experiment %L', v_busy.parameter, v_busy.experiment
            ),
            COLUMN = 'parameter';
    END;
    UPDATE routing_experiments AS e SET state = 'running', started_at = now()
    WHERE e.id = v_exp.id
    RETURNING * INTO v_exp;
    PERFORM ssr_private.staff_action_record(p_staff_id, 'experiment_started', 'routing_experiment:' || v_exp.id, '{}');
    RETURN v_exp;
END
$$;

COMMENT ON FUNCTION start_routing_experiment(uuid, bigint) IS
'An admin starts a draft experiment; at most one running experiment per parameter (race-safe). SR403/SR404/SR409.';
