-- stop_routing_experiment: an admin stops a running experiment: new requests are routed as
-- without it; its assignments and results stay. A stopped experiment stopped again is
-- returned unchanged. Audited ('experiment_stopped', with the reason). Returns the row.
-- Errors (writing nothing): SR403 not an admin; SR400 no id, reason over 500 characters;
-- SR404 unknown experiment; SR409 (COLUMN state) a draft (never started).
CREATE OR REPLACE FUNCTION stop_routing_experiment(p_staff_id uuid, p_experiment_id bigint, p_reason text DEFAULT NULL)
RETURNS routing_experiments
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_exp routing_experiments;
BEGIN
    PERFORM ssr_private.assert_staff(p_staff_id, 'admin');
    IF p_experiment_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'experiment_id is required', COLUMN = 'experiment_id';
    END IF;
    IF length(p_reason) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'reason is at most 500 characters', COLUMN = 'reason';
    END IF;
    SELECT * INTO v_exp FROM routing_experiments AS e WHERE e.id = p_experiment_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('experiment %s: no such experiment', p_experiment_id),
            COLUMN = 'experiment_id';
    END IF;
    IF v_exp.state = 'stopped' THEN
        RETURN v_exp;
    END IF;
    IF v_exp.state = 'draft' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409',
            MESSAGE = format('experiment %L is a draft: it never ran', v_exp.name), COLUMN = 'state';
    END IF;
    DELETE FROM routing_experiment_running AS x WHERE x.experiment_id = v_exp.id;
    UPDATE routing_experiments AS e
    SET state = 'stopped', stopped_at = now(), stop_reason = coalesce(nullif(btrim(p_reason), ''), 'stopped by staff')
    WHERE e.id = v_exp.id
    RETURNING * INTO v_exp;
    PERFORM ssr_private.staff_action_record(
        p_staff_id, 'experiment_stopped', 'routing_experiment:' || v_exp.id, jsonb_build_object('reason', p_reason)
    );
    RETURN v_exp;
END
$$;

COMMENT ON FUNCTION stop_routing_experiment(uuid, bigint, text) IS
'An admin stops a running experiment (a repeat returns it unchanged). SR403/SR404/SR409.';
