-- Every trigger on mechanic_availability, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks mechanic_availability only.

-- analytics rollups: a TRUNCATE of mechanic_availability (no row triggers fire) recounts them (function
-- analytics_rollups_truncate_trg, db/functions/). One file per table.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_mechanic_availability
AFTER TRUNCATE ON mechanic_availability
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- analytics_span_days: a closed mechanic_availability row deleted takes its day pieces with it (function
-- analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_del
AFTER DELETE ON mechanic_availability
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL AND old.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- analytics_span_days: a mechanic_availability row inserted closed keeps its span's day pieces (function
-- analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_ins
AFTER INSERT ON mechanic_availability
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL AND new.started_at IS NOT NULL AND new.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- analytics_span_days: a mechanic_availability row whose span closes or changes replaces its day pieces
-- (function analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_upd
AFTER UPDATE ON mechanic_availability
FOR EACH ROW
WHEN (
    (old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL)
    AND (old.workshop_id, old.started_at, old.ended_at) IS DISTINCT FROM (new.workshop_id, new.started_at, new.ended_at)
)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- Function ssr_private.mechanic_state_truncate_trg
-- (db/functions/mechanic_state/ssr_private.mechanic_state_truncate_trg.sql): TRUNCATE fires no row triggers:
-- a TRUNCATE of sessions recounts mechanics.open_sessions (mechanic_state_rebuild), and one of
-- mechanic_availability reopens the intervals of the mechanics available now.
CREATE OR REPLACE TRIGGER mechanic_state_truncate
AFTER TRUNCATE ON mechanic_availability
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.mechanic_state_truncate_trg();
