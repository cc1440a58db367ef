-- analytics_changes: a session request inserted, deleted, or changed in a column the BI
-- views read (status, serving or preferred workshop, routing type, escalation, creation
-- and accept times) queues the periods it touches, before and after. Insert-only:
-- concurrent writers share no row. SECURITY DEFINER: writers need no privilege on the
-- queue. Input: the row before and after; no errors.
CREATE OR REPLACE FUNCTION analytics_changes_session_requests_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_changes (workshop_id, preferred_workshop_id, routing_type, created_at)
        VALUES (NEW.workshop_id, NEW.preferred_workshop_id, NEW.routing_type, NEW.created_at);
    END IF;
    IF TG_OP = 'DELETE' OR (
        TG_OP = 'UPDATE'
        AND (OLD.workshop_id, OLD.preferred_workshop_id, OLD.routing_type, OLD.created_at)
        IS DISTINCT FROM (NEW.workshop_id, NEW.preferred_workshop_id, NEW.routing_type, NEW.created_at)
    ) THEN
        INSERT INTO analytics_changes (workshop_id, preferred_workshop_id, routing_type, created_at)
        VALUES (OLD.workshop_id, OLD.preferred_workshop_id, OLD.routing_type, OLD.created_at);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION analytics_changes_session_requests_trg() FROM PUBLIC;

CREATE OR REPLACE TRIGGER analytics_changes_session_requests_ins_del
AFTER INSERT OR DELETE ON session_requests
FOR EACH ROW EXECUTE FUNCTION analytics_changes_session_requests_trg();

CREATE OR REPLACE TRIGGER analytics_changes_session_requests_upd
AFTER UPDATE ON session_requests
FOR EACH ROW
WHEN (
    (
        old.status, old.workshop_id, old.preferred_workshop_id, old.routing_type, old.escalated_at,
        old.created_at, old.accepted_at
    )
    IS DISTINCT FROM
    (
        new.status, new.workshop_id, new.preferred_workshop_id, new.routing_type, new.escalated_at,
        new.created_at, new.accepted_at
    )
)
EXECUTE FUNCTION analytics_changes_session_requests_trg();
