-- cancel_customer_session_request: the customer who owns a pending request cancels it
-- before anyone accepted; in the same transaction the refund is owed (trigger
-- refunds_request_closed, reason customer_cancelled) and the session cancelled.
-- Against a concurrent accept exactly one wins: both lock the request row by its primary
-- key first; whichever comes second sees the other's committed change and fails (here
-- SR409, for accept SR409 too).
-- Errors, in order: SR400 request_id / customer_id missing; SR403 no verified customer
-- identity, or another customer's (ssr_private.assert_acting_for); SR404 unknown request or a request of another customer
-- (never revealing which); SR409 the request is no longer pending (accepted, expired,
-- cancelled).
CREATE OR REPLACE FUNCTION cancel_customer_session_request(p_request_id uuid, p_customer_id uuid)
RETURNS TABLE (
    request_id uuid,
    request_status text,
    closed_at timestamptz,
    session_id uuid,
    refund_id uuid,
    refund_status text,
    refund_amount_minor integer,
    refund_currency text
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_req session_requests;
BEGIN
    IF p_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_id is required', COLUMN = 'customer_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('customer', p_customer_id);

    SELECT r.* INTO v_req FROM session_requests AS r WHERE r.id = p_request_id FOR UPDATE;
    IF NOT FOUND OR v_req.customer_id <> p_customer_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('request_id %s: no such session request', p_request_id),
            COLUMN = 'request_id';
    END IF;
    IF v_req.status <> 'pending' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409', MESSAGE = format('session request %s is %s, not pending', p_request_id, v_req.status),
            COLUMN = 'request_id';
    END IF;

    PERFORM set_config('refunds.reason', 'customer_cancelled', TRUE);
    PERFORM ssr_private.cancel_session_request(p_request_id, 'cancelled by the customer');
    PERFORM set_config('refunds.reason', '', TRUE);

    RETURN QUERY
    SELECT r.id, r.status, r.closed_at, r.session_id, rf.id, rf.status, rf.amount_minor, rf.currency
    FROM session_requests AS r
    LEFT JOIN refunds AS rf ON r.id = rf.session_request_id
    WHERE r.id = p_request_id;
END
$$;

COMMENT ON FUNCTION cancel_customer_session_request(uuid, uuid) IS
'The owning customer cancels a pending request: cancelled and refund owed in one transaction; one winner against accept.';
