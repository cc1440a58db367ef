-- analytics_changes: a session request inserted, deleted, or changed in a column the BI
-- views read (status, serving or preferred workshop, routing type, escalation, creation
-- and accept times) queues the periods it touches, before and after. Insert-only:
-- concurrent writers share no row. SECURITY DEFINER: writers need no privilege on the
-- queue. Input: the row before and after; no errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_changes_session_requests_trg()
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
REVOKE ALL ON FUNCTION ssr_private.analytics_changes_session_requests_trg() FROM PUBLIC;
