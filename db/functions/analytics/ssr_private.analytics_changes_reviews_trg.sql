-- analytics_changes: a review inserted, deleted, or changed (stars, session) queues the
-- period of the reviewed session at its serving workshop. The session row is read FOR
-- SHARE, so a concurrent move of the session to another workshop waits for this
-- transaction or is seen committed: the workshop queued is the one the recount will
-- find. A review deleted with its session finds no session: the sessions trigger
-- queued that period. SECURITY DEFINER like the other queue triggers. No errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_changes_reviews_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_changes (workshop_id, created_at)
        SELECT s.workshop_id, s.created_at
        FROM sessions AS s
        WHERE s.id = OLD.session_id AND s.workshop_id IS NOT NULL
        FOR SHARE;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_changes (workshop_id, created_at)
        SELECT s.workshop_id, s.created_at
        FROM sessions AS s
        WHERE s.id = NEW.session_id AND s.workshop_id IS NOT NULL
        FOR SHARE;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.analytics_changes_reviews_trg() FROM PUBLIC;
