-- Auto-population, part 2: the session staffed by a request mirrors it:
-- sessions.mechanic_id and sessions.workshop_id (the serving workshop) from the
-- request once accepted, sessions.preferred_workshop_id from the request (from creation).
CREATE OR REPLACE FUNCTION ssr_private.routing_sync_session()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
    IF NEW.session_id IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE sessions AS s
    SET
        mechanic_id = coalesce(NEW.mechanic_id, s.mechanic_id),
        workshop_id = CASE WHEN NEW.mechanic_id IS NOT NULL THEN NEW.workshop_id ELSE s.workshop_id END,
        preferred_workshop_id = NEW.preferred_workshop_id
    WHERE
        s.id = NEW.session_id
        AND (
            s.preferred_workshop_id IS DISTINCT FROM NEW.preferred_workshop_id
            OR (
                NEW.mechanic_id IS NOT NULL
                AND (s.mechanic_id IS DISTINCT FROM NEW.mechanic_id OR s.workshop_id IS DISTINCT FROM NEW.workshop_id)
            )
        );
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_sync_session() IS
'Trigger: copies mechanic_id, workshop_id and preferred_workshop_id of a session request to its session.';
