-- analytics_changes: a session inserted, deleted, or changed in a column the BI views
-- read (serving or preferred workshop, status, amount, currency, creation time) queues
-- the periods it touches, before and after; a change of status also queues the day of its
-- request (routing_effectiveness counts the sessions per status of the day's requests; a
-- request's routing type and creation time are set once, so reading them needs no lock).
-- Insert-only: concurrent writers share no row. SECURITY DEFINER: writers need no privilege on the queue. Input: the row before
-- and after; no errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_changes_sessions_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_changes (workshop_id, preferred_workshop_id, created_at)
        VALUES (NEW.workshop_id, NEW.preferred_workshop_id, NEW.created_at);
    END IF;
    IF TG_OP = 'DELETE' OR (
        TG_OP = 'UPDATE'
        AND (OLD.workshop_id, OLD.preferred_workshop_id, OLD.created_at)
        IS DISTINCT FROM (NEW.workshop_id, NEW.preferred_workshop_id, NEW.created_at)
    ) THEN
        INSERT INTO analytics_changes (workshop_id, preferred_workshop_id, created_at)
        VALUES (OLD.workshop_id, OLD.preferred_workshop_id, OLD.created_at);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IS DISTINCT FROM NEW.status THEN
        INSERT INTO analytics_changes (routing_type, created_at)
        SELECT r.routing_type, r.created_at FROM session_requests AS r WHERE r.session_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.analytics_changes_sessions_trg() FROM PUBLIC;
