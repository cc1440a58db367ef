-- Presence history: a change of availability, status or workshop closes and/or opens an
-- interval (function mechanic_availability_log_trg, db/functions/).
CREATE OR REPLACE TRIGGER mechanic_availability_log_upd
AFTER UPDATE ON mechanics
FOR EACH ROW
WHEN (
    old.is_available IS DISTINCT FROM new.is_available
    OR old.status IS DISTINCT FROM new.status
    OR old.workshop_id IS DISTINCT FROM new.workshop_id
)
EXECUTE FUNCTION ssr_private.mechanic_availability_log_trg();
