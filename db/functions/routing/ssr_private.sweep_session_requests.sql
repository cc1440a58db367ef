-- sweep_session_requests: housekeeping to run every few seconds (cron, a worker, the app);
-- safe to run concurrently (rows another sweep or an accept holds are skipped, FOR UPDATE
-- SKIP LOCKED). As of p_now (tests pass it instead of waiting):
--   1. pending requests whose expires_at has passed become expired (closed_at = p_now,
--      outcome expired_no_mechanic: nobody accepted in time, refund due);
--   2. pending hybrid requests whose exclusive window has passed are escalated
--      (escalated_at = p_now): open to everyone and announced on the global channel;
--      so are those still inside the window whose preferred workshop has nobody available
--      any more who has not declined them (busy mechanics at capacity count as unavailable;
--      the window is cut short: exclusive_until = p_now).
-- The audit trigger writes the events and the notifications. Returns the counts.
CREATE OR REPLACE FUNCTION ssr_private.sweep_session_requests(p_now timestamptz DEFAULT now())
RETURNS TABLE (escalated integer, expired integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_expired integer;
    v_escalated integer;
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'now is required', COLUMN = 'now';
    END IF;

    WITH due AS (
        SELECT d.id
        FROM session_requests AS d
        WHERE d.status = 'pending' AND d.expires_at <= p_now
        ORDER BY d.expires_at
        FOR UPDATE SKIP LOCKED
    )

    UPDATE session_requests AS r
    SET status = 'expired', closed_at = greatest(p_now, r.created_at), outcome = 'expired_no_mechanic'
    FROM due
    WHERE r.id = due.id;
    GET DIAGNOSTICS v_expired = ROW_COUNT;

    WITH due AS (
        SELECT d.id
        FROM session_requests AS d
        WHERE
            d.status = 'pending'
            AND d.routing_type = 'hybrid'
            AND d.escalated_at IS NULL
            AND d.exclusive_until IS NOT NULL
            AND (
                d.exclusive_until <= p_now
                OR NOT EXISTS (
                    SELECT 1 FROM ssr_private.routing_offerable_mechanics AS a
                    WHERE
                        a.workshop_id = d.preferred_workshop_id
                        AND NOT a.mechanic_id = ANY(d.declined_by)
                )
            )
        ORDER BY d.exclusive_until
        FOR UPDATE SKIP LOCKED
    )

    UPDATE session_requests AS r
    SET escalated_at = p_now, exclusive_until = least(r.exclusive_until, p_now)
    FROM due
    WHERE r.id = due.id;
    GET DIAGNOSTICS v_escalated = ROW_COUNT;

    RETURN QUERY SELECT v_escalated, v_expired;
END
$$;

COMMENT ON FUNCTION ssr_private.sweep_session_requests(timestamptz) IS
'Expires overdue pending requests and escalates hybrid ones whose window passed; concurrent-safe; returns counts.';
