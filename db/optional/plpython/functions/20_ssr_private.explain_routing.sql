-- ssr_private.explain_routing: the audit trail of one request, in order, with one readable
-- sentence per step (ssr_private.routing_event_narrative). Owner only; staff read the same
-- narratives through the view analytics.routing_explanations.
-- Errors: SR400 without a request id, SR404 for an unknown request.
CREATE OR REPLACE FUNCTION ssr_private.explain_routing(p_request_id uuid)
RETURNS TABLE (
    step integer,
    event_id bigint,
    created_at timestamptz,
    event_type text,
    mechanic_id uuid,
    workshop_id uuid,
    detail jsonb,
    narrative text
)
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
BEGIN
    IF p_request_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'request_id is required', COLUMN = 'request_id';
    END IF;
    PERFORM 1 FROM session_requests AS r WHERE r.id = p_request_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('request_id %s: no such session request', p_request_id),
            COLUMN = 'request_id';
    END IF;
    RETURN QUERY
    SELECT
        (row_number() OVER (ORDER BY e.id))::integer,
        e.id,
        e.created_at,
        e.event_type,
        e.mechanic_id,
        e.workshop_id,
        e.detail,
        ssr_private.routing_event_narrative(e.event_type, e.mechanic_id, e.workshop_id, m.name, o.name, e.detail)
    FROM routing_events AS e
    LEFT JOIN mechanics AS m ON e.mechanic_id = m.id
    LEFT JOIN organizations AS o ON e.workshop_id = o.id
    WHERE e.request_id = p_request_id
    ORDER BY e.id;
END
$$;

COMMENT ON FUNCTION ssr_private.explain_routing(uuid) IS
'The routing events of a request in order, each with a readable narrative; SR404 for an unknown request.';
