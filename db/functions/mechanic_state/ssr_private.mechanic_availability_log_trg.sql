-- Presence history: mechanic_availability gets an interval per stretch of time a mechanic
-- is available for work (status active and is_available). Becoming available opens one
-- (started_at = now()), stopping closes it (ended_at = now()), a move to another workshop
-- closes it and opens one for the new workshop. SECURITY DEFINER: whoever may write
-- mechanics keeps the history without privileges on it.
CREATE OR REPLACE FUNCTION ssr_private.mechanic_availability_log_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_was boolean := FALSE;
    v_is boolean := NEW.status = 'active' AND NEW.is_available;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        v_was := OLD.status = 'active' AND OLD.is_available;
        IF v_was AND v_is AND OLD.workshop_id IS NOT DISTINCT FROM NEW.workshop_id THEN
            RETURN NULL;
        END IF;
        IF v_was THEN
            UPDATE mechanic_availability AS a
            SET ended_at = greatest(now(), a.started_at)
            WHERE a.mechanic_id = NEW.id AND a.ended_at IS NULL;
        END IF;
    END IF;
    IF v_is THEN
        INSERT INTO mechanic_availability (mechanic_id, workshop_id, started_at)
        VALUES (NEW.id, NEW.workshop_id, now())
        ON CONFLICT (mechanic_id) WHERE ended_at IS NULL DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.mechanic_availability_log_trg() FROM PUBLIC;

COMMENT ON FUNCTION ssr_private.mechanic_availability_log_trg() IS
'Trigger: opens and closes mechanic_availability intervals as mechanics become available or stop being available.';
