-- Every trigger on sessions, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks sessions only.

-- The directory counts sessions served per workshop: a deleted session is subtracted before it goes, while its review is there.
-- Named to fire after the other BEFORE DELETE triggers (they fire in name order).
CREATE OR REPLACE TRIGGER workshop_stats_sessions_del
BEFORE DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();

-- The BI rollups are recounted per queued period: a deleted session leaves its workshops' and request's days.
CREATE OR REPLACE TRIGGER analytics_changes_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL OR old.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();

-- The BI rollups are recounted per queued period: a new session counts for its workshops' day.
CREATE OR REPLACE TRIGGER analytics_changes_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL OR new.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();

-- The BI rollups are recounted per queued period: a session changed in a column they read changes the periods before and after.
CREATE OR REPLACE TRIGGER analytics_changes_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.workshop_id, old.preferred_workshop_id, old.status, old.amount_total_minor, old.currency, old.created_at)
    IS DISTINCT FROM
    (new.workshop_id, new.preferred_workshop_id, new.status, new.amount_total_minor, new.currency, new.created_at)
)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();

-- A TRUNCATE fires no row trigger: the analytics rollups are recounted from scratch, or they would count rows that are gone.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_sessions
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- The BI views read busy time from pre-cut day pieces: a deleted call must take its pieces out of the hours busy.
CREATE OR REPLACE TRIGGER analytics_spans_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL AND old.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- The BI views read busy time from pre-cut day pieces: a call inserted already ended (an import) needs its pieces cut now.
CREATE OR REPLACE TRIGGER analytics_spans_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL AND new.started_at IS NOT NULL AND new.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- The BI views read busy time from pre-cut day pieces: a call that ends or moves must have its pieces cut again.
CREATE OR REPLACE TRIGGER analytics_spans_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL)
    AND (old.workshop_id, old.started_at, old.ended_at) IS DISTINCT FROM (new.workshop_id, new.started_at, new.ended_at)
)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- An assigned request's session changed status: queue it for the experiment rollup.
CREATE OR REPLACE TRIGGER experiment_changes_sessions
AFTER UPDATE OF status ON sessions
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status)
EXECUTE FUNCTION ssr_private.experiment_changes_trg();

-- Capacity is checked against mechanics.open_sessions, not a count: a deleted session that held a slot frees it.
CREATE OR REPLACE TRIGGER mechanic_open_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.mechanic_id IS NOT NULL AND old.status IN ('waiting', 'live'))
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();

-- Capacity is checked against mechanics.open_sessions, not a count: a session inserted assigned and open takes a slot.
CREATE OR REPLACE TRIGGER mechanic_open_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.mechanic_id IS NOT NULL AND new.status IN ('waiting', 'live'))
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();

-- Capacity is checked against mechanics.open_sessions, not a count: starting, ending or reassigning a session moves the slot.
-- WHEN is evaluated on the final row: fires only when the slot holder can change.
CREATE OR REPLACE TRIGGER mechanic_open_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    old.mechanic_id IS DISTINCT FROM new.mechanic_id
    OR (old.status IN ('waiting', 'live')) IS DISTINCT FROM (new.status IN ('waiting', 'live'))
)
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();

-- A TRUNCATE fires no row trigger: without this, mechanics.open_sessions and the presence intervals would be left stale.
CREATE OR REPLACE TRIGGER mechanic_state_truncate
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.mechanic_state_truncate_trg();

-- The ranking reads rollups, not sessions: a session made already ended (by hand, a load) counts as ended (or missed).
CREATE OR REPLACE TRIGGER ranking_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.mechanic_id IS NOT NULL AND new.status IN ('completed', 'no_show', 'cancelled', 'refunded'))
EXECUTE FUNCTION ssr_private.ranking_sessions_trg();

-- The ranking reads rollups, not sessions: a session its mechanic accepted that ends counts as ended (or missed) once.
CREATE OR REPLACE TRIGGER ranking_sessions_upd
AFTER UPDATE OF status ON sessions
FOR EACH ROW
WHEN (
    new.mechanic_id IS NOT NULL
    AND old.status IN ('waiting', 'live')
    AND new.status IN ('completed', 'no_show', 'cancelled', 'refunded')
)
EXECUTE FUNCTION ssr_private.ranking_sessions_trg();

-- The directory counts sessions served per workshop without scanning sessions: one inserted with its workshop counts for it.
CREATE OR REPLACE TRIGGER workshop_stats_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();

-- The directory counts sessions served per workshop: a session that changes workshop moves its count and its review with it.
-- WHEN is evaluated on the final row, so a workshop_id set by a BEFORE trigger counts too.
CREATE OR REPLACE TRIGGER workshop_stats_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS DISTINCT FROM new.workshop_id)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();

-- A TRUNCATE fires no row trigger: the per-workshop aggregates are recounted from scratch, or they would count rows now gone.
CREATE OR REPLACE TRIGGER workshop_stats_truncate
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.workshop_stats_truncate_trg();
