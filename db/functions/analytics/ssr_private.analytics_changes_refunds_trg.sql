-- analytics_changes: a refund inserted, deleted or moved to another session or request
-- queues the periods it touches, before and after: the preferred workshop of its session
-- on the UTC day the session was created (workshop_session_analytics.refunds) and the
-- routing type of its request on the day the request was created
-- (routing_effectiveness.refunds). Those columns of a session and a request are set once
-- (a change of them queues both days itself), so reading them needs no lock. Insert-only;
-- SECURITY DEFINER like the other queue triggers. No errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_changes_refunds_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_changes (preferred_workshop_id, routing_type, created_at)
        SELECT s.preferred_workshop_id, NULL, s.created_at
        FROM sessions AS s
        WHERE s.id = OLD.session_id AND s.preferred_workshop_id IS NOT NULL
        UNION ALL
        SELECT NULL, r.routing_type, r.created_at FROM session_requests AS r WHERE r.id = OLD.session_request_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_changes (preferred_workshop_id, routing_type, created_at)
        SELECT s.preferred_workshop_id, NULL, s.created_at
        FROM sessions AS s
        WHERE s.id = NEW.session_id AND s.preferred_workshop_id IS NOT NULL
        UNION ALL
        SELECT NULL, r.routing_type, r.created_at FROM session_requests AS r WHERE r.id = NEW.session_request_id;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.analytics_changes_refunds_trg() FROM PUBLIC;
