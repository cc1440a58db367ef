-- Every trigger on mechanic_availability, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks mechanic_availability only.

-- A TRUNCATE fires no row trigger: the analytics rollups are recounted from scratch, or they would count rows that are gone.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_mechanic_availability
AFTER TRUNCATE ON mechanic_availability
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- The BI views read presence from pre-cut day pieces: a deleted closed interval must take its pieces out of the hours available.
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_del
AFTER DELETE ON mechanic_availability
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL AND old.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- The BI views read presence from pre-cut day pieces: an interval inserted already closed (an import) needs its pieces cut now.
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_ins
AFTER INSERT ON mechanic_availability
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL AND new.started_at IS NOT NULL AND new.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- The BI views read presence from pre-cut day pieces: an interval that closes or moves must have its pieces cut again.
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_upd
AFTER UPDATE ON mechanic_availability
FOR EACH ROW
WHEN (
    (old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL)
    AND (old.workshop_id, old.started_at, old.ended_at) IS DISTINCT FROM (new.workshop_id, new.started_at, new.ended_at)
)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- A TRUNCATE fires no row trigger: without this, mechanics.open_sessions and the presence intervals would be left stale.
CREATE OR REPLACE TRIGGER mechanic_state_truncate
AFTER TRUNCATE ON mechanic_availability
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.mechanic_state_truncate_trg();
