-- Auto-population, part 1 (the design note's trigger session_request_populate_workshop):
-- session_requests.workshop_id follows the accepting mechanic (their workshop, NULL for
-- independents) whenever mechanic_id is set or changed, by accept_session_request or by a
-- direct UPDATE. On INSERT it is filled only when the caller left it NULL (imports may
-- carry the historical workshop).
-- Inputs: the new row. Errors: none of its own.
CREATE OR REPLACE FUNCTION ssr_private.session_request_populate_workshop()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.mechanic_id IS NOT NULL AND NEW.workshop_id IS NULL THEN
            NEW.workshop_id := (SELECT m.workshop_id FROM mechanics AS m WHERE m.id = NEW.mechanic_id);
        END IF;
    ELSIF NEW.mechanic_id IS DISTINCT FROM OLD.mechanic_id THEN
        NEW.workshop_id := (SELECT m.workshop_id FROM mechanics AS m WHERE m.id = NEW.mechanic_id);
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION ssr_private.session_request_populate_workshop() IS
'Trigger function of session_request_populate_workshop: sets session_requests.workshop_id from the accepting '
'mechanic''s workshop.';
