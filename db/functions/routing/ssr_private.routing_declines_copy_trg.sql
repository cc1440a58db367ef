-- A decline (a row of session_request_declines, whoever writes it) is copied onto its
-- request (session_requests.declined_by, read by offers, accept and the mechanic policy)
-- and recorded in the audit trail (routing_events 'declined', with the seconds from offer
-- to decline and the reason). A deleted decline is removed from the copy.
CREATE OR REPLACE FUNCTION ssr_private.routing_declines_copy_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE session_requests AS r
        SET declined_by = array_remove(r.declined_by, OLD.mechanic_id)
        WHERE r.id = OLD.request_id;
        RETURN NULL;
    END IF;
    UPDATE session_requests AS r
    SET declined_by = r.declined_by || NEW.mechanic_id
    WHERE r.id = NEW.request_id AND NOT NEW.mechanic_id = ANY(r.declined_by);
    INSERT INTO routing_events (request_id, event_type, mechanic_id, workshop_id, detail, created_at)
    VALUES (
        NEW.request_id, 'declined', NEW.mechanic_id, NEW.workshop_id,
        jsonb_strip_nulls(jsonb_build_object(
            'offered_at', NEW.offered_at,
            'seconds_to_decline', extract(EPOCH FROM NEW.declined_at - NEW.offered_at),
            'reason', NEW.reason
        )),
        clock_timestamp()
    );
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ssr_private.routing_declines_copy_trg() FROM PUBLIC;

COMMENT ON FUNCTION ssr_private.routing_declines_copy_trg() IS
'Trigger: copies a decline onto session_requests.declined_by and records it in routing_events.';
