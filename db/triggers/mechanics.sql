-- Every trigger on mechanics, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks mechanics only.

-- Presence history: a mechanic inserted available opens an interval (function mechanic_availability_log_trg,
-- db/functions/).
CREATE OR REPLACE TRIGGER mechanic_availability_log_ins
AFTER INSERT ON mechanics
FOR EACH ROW
WHEN (new.status = 'active' AND new.is_available)
EXECUTE FUNCTION ssr_private.mechanic_availability_log_trg();

-- Presence history: a change of availability, status or workshop closes and/or opens an interval (function
-- mechanic_availability_log_trg, db/functions/).
CREATE OR REPLACE TRIGGER mechanic_availability_log_upd
AFTER UPDATE ON mechanics
FOR EACH ROW
WHEN (
    old.is_available IS DISTINCT FROM new.is_available
    OR old.status IS DISTINCT FROM new.status
    OR old.workshop_id IS DISTINCT FROM new.workshop_id
)
EXECUTE FUNCTION ssr_private.mechanic_availability_log_trg();

-- workshop_stats: a new or deleted mechanic counts in its workshop's mechanic totals (function
-- workshop_stats_mechanics_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_mechanics_ins_del
AFTER INSERT OR DELETE ON mechanics
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_mechanics_trg();

-- workshop_stats: a mechanic's change of workshop, status or availability moves the counts (function
-- workshop_stats_mechanics_trg, db/functions/). WHEN is evaluated on the final row, so changes made by BEFORE
-- triggers count too.
CREATE OR REPLACE TRIGGER workshop_stats_mechanics_upd
AFTER UPDATE ON mechanics
FOR EACH ROW
WHEN (
    old.workshop_id IS DISTINCT FROM new.workshop_id
    OR old.status IS DISTINCT FROM new.status
    OR old.is_available IS DISTINCT FROM new.is_available
)
EXECUTE FUNCTION ssr_private.workshop_stats_mechanics_trg();

-- Function ssr_private.workshop_stats_truncate_trg
-- (db/functions/workshop_stats/ssr_private.workshop_stats_truncate_trg.sql): workshop_stats: TRUNCATE fires
-- no row triggers, so a TRUNCATE of mechanics, sessions or reviews recounts the aggregates from scratch
-- (workshop_stats_rebuild).
CREATE OR REPLACE TRIGGER workshop_stats_truncate
AFTER TRUNCATE ON mechanics
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.workshop_stats_truncate_trg();
