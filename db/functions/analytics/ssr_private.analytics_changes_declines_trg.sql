-- analytics_changes: a decline (session_request_declines) inserted, deleted or changed
-- queues the periods it touches, before and after: the decliner's workshop on the UTC day
-- of declined_at (workshop_session_analytics) and the routing type on the day its request
-- was created (routing_effectiveness). A request's routing type and creation time are set
-- once (a change of them queues both days itself), so reading them needs no lock. A
-- decline deleted with its request finds no request: the request's trigger queued that
-- day. Insert-only; SECURITY DEFINER like the other queue triggers. No errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_changes_declines_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_changes (workshop_id, routing_type, created_at)
        SELECT OLD.workshop_id, NULL, OLD.declined_at WHERE OLD.workshop_id IS NOT NULL
        UNION ALL
        SELECT NULL, r.routing_type, r.created_at FROM session_requests AS r WHERE r.id = OLD.request_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_changes (workshop_id, routing_type, created_at)
        SELECT NEW.workshop_id, NULL, NEW.declined_at WHERE NEW.workshop_id IS NOT NULL
        UNION ALL
        SELECT NULL, r.routing_type, r.created_at FROM session_requests AS r WHERE r.id = NEW.request_id;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.analytics_changes_declines_trg() FROM PUBLIC;
