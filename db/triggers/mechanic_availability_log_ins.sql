-- Presence history: a mechanic inserted available opens an interval (function
-- mechanic_availability_log_trg, db/functions/).
CREATE OR REPLACE TRIGGER mechanic_availability_log_ins
AFTER INSERT ON mechanics
FOR EACH ROW
WHEN (new.status = 'active' AND new.is_available)
EXECUTE FUNCTION ssr_private.mechanic_availability_log_trg();
