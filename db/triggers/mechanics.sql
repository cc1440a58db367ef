-- Every trigger on mechanics, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks mechanics only.

-- Availability hours are history, not a flag: a mechanic created available starts the interval the BI views count.
CREATE OR REPLACE TRIGGER mechanic_availability_log_ins
AFTER INSERT ON mechanics
FOR EACH ROW
WHEN (new.status = 'active' AND new.is_available)
EXECUTE FUNCTION ssr_private.mechanic_availability_log_trg();

-- Availability hours are history, not a flag: going available or not, or moving workshop, closes and opens intervals.
CREATE OR REPLACE TRIGGER mechanic_availability_log_upd
AFTER UPDATE ON mechanics
FOR EACH ROW
WHEN (
    old.is_available IS DISTINCT FROM new.is_available
    OR old.status IS DISTINCT FROM new.status
    OR old.workshop_id IS DISTINCT FROM new.workshop_id
)
EXECUTE FUNCTION ssr_private.mechanic_availability_log_trg();

-- The directory and routing read mechanic counts per workshop instead of counting rows: a mechanic added or removed moves them.
CREATE OR REPLACE TRIGGER workshop_stats_mechanics_ins_del
AFTER INSERT OR DELETE ON mechanics
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_mechanics_trg();

-- The directory and routing read mechanic counts per workshop, not rows: a move, status, availability or hours change moves them.
-- WHEN is evaluated on the final row, so changes made by BEFORE triggers count too.
CREATE OR REPLACE TRIGGER workshop_stats_mechanics_upd
AFTER UPDATE ON mechanics
FOR EACH ROW
WHEN (
    old.workshop_id IS DISTINCT FROM new.workshop_id
    OR old.status IS DISTINCT FROM new.status
    OR old.is_available IS DISTINCT FROM new.is_available
    OR old.in_hours IS DISTINCT FROM new.in_hours
)
EXECUTE FUNCTION ssr_private.workshop_stats_mechanics_trg();

-- A TRUNCATE fires no row trigger: the per-workshop aggregates are recounted from scratch, or they would count rows now gone.
CREATE OR REPLACE TRIGGER workshop_stats_truncate
AFTER TRUNCATE ON mechanics
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.workshop_stats_truncate_trg();
