-- reconciliation_run_finish: closes a reconciliation run (finished_at), with the error
-- that stopped it early if any, and returns it. Errors, in order: SR400 run_id missing;
-- SR404 unknown run; SR409 already finished.
CREATE OR REPLACE FUNCTION ssr_private.reconciliation_run_finish(p_run_id bigint, p_error text DEFAULT NULL)
RETURNS reconciliation_runs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_run reconciliation_runs;
BEGIN
    IF p_run_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'run_id is required', COLUMN = 'run_id';
    END IF;
    SELECT r.* INTO v_run FROM reconciliation_runs AS r WHERE r.id = p_run_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SR404', MESSAGE = format('run %s: no such run', p_run_id), COLUMN = 'run_id';
    END IF;
    IF v_run.finished_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR409', MESSAGE = format('run %s is finished', p_run_id), COLUMN = 'run_id';
    END IF;
    UPDATE reconciliation_runs AS r
    SET finished_at = clock_timestamp(), error = left(p_error, 2000)
    WHERE r.id = p_run_id
    RETURNING r.* INTO v_run;
    RETURN v_run;
END
$$;

COMMENT ON FUNCTION ssr_private.reconciliation_run_finish(bigint, text) IS
'Closes a reconciliation run (with the error that stopped it, if any); returns it.';
