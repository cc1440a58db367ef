-- cancel_session_request: cancels a pending request (e.g. the customer gave up or was
-- refunded). Conditional UPDATE; SR404 unknown request, SR409 when it is no longer
-- pending. The audit trigger records 'cancelled' (with p_reason) and announces it.
CREATE OR REPLACE FUNCTION ssr_private.cancel_session_request(p_request_id uuid, p_reason text DEFAULT NULL)
RETURNS session_requests
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_req session_requests;
BEGIN
    IF p_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    PERFORM set_config('routing.reason', coalesce(left(p_reason, 500), ''), TRUE);
    UPDATE session_requests AS r
    SET status = 'cancelled', closed_at = now(), outcome = 'cancelled'
    WHERE r.id = p_request_id AND r.status = 'pending'
    RETURNING r.* INTO v_req;
    PERFORM set_config('routing.reason', '', TRUE);
    IF v_req.id IS NOT NULL THEN
        RETURN v_req;
    END IF;
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_request_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('request_id %s: no such session request', p_request_id),
            COLUMN = 'request_id';
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'SR409', MESSAGE = format('session request %s is %s, not pending', p_request_id, v_req.status),
        COLUMN = 'request_id';
END
$$;

COMMENT ON FUNCTION ssr_private.cancel_session_request(uuid, text) IS
'Cancels a pending session request (SR404 unknown, SR409 not pending); audited and announced.';
