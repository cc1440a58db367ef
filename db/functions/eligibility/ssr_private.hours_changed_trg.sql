-- hours_changed_trg: a change of working_hours or hours_overrides refreshes at once the
-- hours state of the mechanic concerned, or of every mechanic of the workshop concerned
-- (ssr_private.hours_refresh), old and new owner. No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.hours_changed_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ssr_private.hours_refresh(now(), OLD.mechanic_id, OLD.workshop_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ssr_private.hours_refresh(now(), NEW.mechanic_id, NEW.workshop_id);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.hours_changed_trg() IS
'Trigger: refreshes the hours state of the mechanic or workshop whose working hours or overrides changed.';
