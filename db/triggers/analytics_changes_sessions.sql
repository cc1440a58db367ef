-- analytics_changes: a session inserted, deleted, or changed in a column the BI views
-- read (serving or preferred workshop, status, amount, currency, creation time) queues
-- the periods it touches, before and after. Insert-only: concurrent writers share no
-- row. SECURITY DEFINER: writers need no privilege on the queue. Input: the row before
-- and after; no errors.
CREATE OR REPLACE FUNCTION analytics_changes_sessions_trg()
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
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION analytics_changes_sessions_trg() FROM PUBLIC;

CREATE OR REPLACE TRIGGER analytics_changes_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL OR new.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION analytics_changes_sessions_trg();

CREATE OR REPLACE TRIGGER analytics_changes_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL OR old.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION analytics_changes_sessions_trg();

CREATE OR REPLACE TRIGGER analytics_changes_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.workshop_id, old.preferred_workshop_id, old.status, old.amount_total_minor, old.currency, old.created_at)
    IS DISTINCT FROM
    (new.workshop_id, new.preferred_workshop_id, new.status, new.amount_total_minor, new.currency, new.created_at)
)
EXECUTE FUNCTION analytics_changes_sessions_trg();
