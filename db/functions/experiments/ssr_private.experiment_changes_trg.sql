-- experiment_changes_trg: an outcome of an assigned request changed (its status; its
-- session's status; a refund; a review): queue the request for the experiment rollup. One
-- primary-key probe of routing_experiment_assignments (by request, or by session for
-- sessions and reviews; refunds carry both); nothing is written for requests outside
-- experiments. SECURITY DEFINER: writers need no privilege on the queue. The row's keys are
-- read through jsonb (one function for four tables: no field a table lacks is named). No errors.
CREATE OR REPLACE FUNCTION ssr_private.experiment_changes_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_row jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
    IF TG_TABLE_NAME = 'session_requests' THEN
        INSERT INTO experiment_changes (session_request_id)
        SELECT a.session_request_id FROM routing_experiment_assignments AS a
        WHERE a.session_request_id = (v_row ->> 'id')::uuid;
    ELSIF TG_TABLE_NAME = 'sessions' THEN
        INSERT INTO experiment_changes (session_request_id)
        SELECT a.session_request_id FROM routing_experiment_assignments AS a WHERE a.session_id = (v_row ->> 'id')::uuid;
    ELSIF TG_TABLE_NAME = 'reviews' THEN
        INSERT INTO experiment_changes (session_request_id)
        SELECT a.session_request_id FROM routing_experiment_assignments AS a
        WHERE a.session_id = (v_row ->> 'session_id')::uuid;
    ELSIF TG_TABLE_NAME = 'refunds' THEN
        INSERT INTO experiment_changes (session_request_id)
        SELECT a.session_request_id FROM routing_experiment_assignments AS a
        WHERE a.session_request_id = (v_row ->> 'session_request_id')::uuid
            OR a.session_id = (v_row ->> 'session_id')::uuid;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.experiment_changes_trg() IS
'Trigger: queues an assigned request for the experiment rollup when its status, session, refund or review changes.';

REVOKE ALL ON FUNCTION ssr_private.experiment_changes_trg() FROM PUBLIC;
