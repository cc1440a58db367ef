-- ssr_private.experiment_assignment_record: records that a new request is routed under an
-- experiment's arm (session_request_insert calls it, only when routing_assignment found a
-- running experiment), and queues the request for the experiment's rollup. Input: the
-- inserted request and its assignment. No errors (the request is new). PL/pgSQL, not SQL:
-- its two statements are planned once per connection (an SQL function called from PL/pgSQL
-- is parsed and planned again at every call, on the request creation hot path).
CREATE OR REPLACE FUNCTION ssr_private.experiment_assignment_record(
    p_request session_requests,
    p_experiment_id bigint,
    p_arm text,
    p_unit_key text,
    p_window_start timestamptz
) RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO routing_experiment_assignments (
        session_request_id, session_id, experiment_id, arm, unit_key, window_start, assigned_at
    ) VALUES (
        p_request.id, p_request.session_id, p_experiment_id, p_arm, p_unit_key, p_window_start, p_request.created_at
    );
    INSERT INTO experiment_changes (session_request_id) VALUES (p_request.id);
END
$$;

COMMENT ON FUNCTION ssr_private.experiment_assignment_record(session_requests, bigint, text, text, timestamptz) IS
'Records a new request''s experiment arm, unit and window, and queues it for the experiment rollup.';

REVOKE ALL ON FUNCTION ssr_private.experiment_assignment_record(
    session_requests, bigint, text, text, timestamptz
) FROM PUBLIC;
