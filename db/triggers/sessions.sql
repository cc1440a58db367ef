-- Every trigger on sessions, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks sessions only.

-- workshop_stats: a deleted session is subtracted before the row and its review go (function
-- workshop_stats_sessions_trg, db/functions/). Named to fire after other BEFORE DELETE triggers (they fire in
-- name order).
CREATE OR REPLACE TRIGGER workshop_stats_sessions_del
BEFORE DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();

-- analytics_changes: a session's change queues the periods it touches (function
-- analytics_changes_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL OR old.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();

-- analytics_changes: a session's change queues the periods it touches (function
-- analytics_changes_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL OR new.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();

-- analytics_changes: a session's change queues the periods it touches (function
-- analytics_changes_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.workshop_id, old.preferred_workshop_id, old.status, old.amount_total_minor, old.currency, old.created_at)
    IS DISTINCT FROM
    (new.workshop_id, new.preferred_workshop_id, new.status, new.amount_total_minor, new.currency, new.created_at)
)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();

-- analytics rollups: a TRUNCATE of sessions (no row triggers fire) recounts them (function
-- analytics_rollups_truncate_trg, db/functions/). One file per table: no transaction of the migration runner
-- locks both sessions and session_requests.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_sessions
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- analytics_span_days: a closed sessions row deleted takes its day pieces with it (function
-- analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL AND old.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- analytics_span_days: a sessions row inserted closed keeps its span's day pieces (function
-- analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL AND new.started_at IS NOT NULL AND new.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- analytics_span_days: a sessions row whose span closes or changes replaces its day pieces (function
-- analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL)
    AND (old.workshop_id, old.started_at, old.ended_at) IS DISTINCT FROM (new.workshop_id, new.started_at, new.ended_at)
)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();

-- mechanics.open_sessions: a deleted session that held a slot frees it (function mechanic_open_sessions_trg,
-- db/functions/).
CREATE OR REPLACE TRIGGER mechanic_open_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.mechanic_id IS NOT NULL AND old.status IN ('waiting', 'live'))
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();

-- mechanics.open_sessions: a session inserted already assigned and waiting or live takes a slot of its
-- mechanic (function mechanic_open_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER mechanic_open_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.mechanic_id IS NOT NULL AND new.status IN ('waiting', 'live'))
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();

-- mechanics.open_sessions: a session that starts or stops holding a slot, or moves to another mechanic, moves
-- the counts (function mechanic_open_sessions_trg, db/functions/). WHEN is evaluated on the final row: fires
-- only when the slot holder can change.
CREATE OR REPLACE TRIGGER mechanic_open_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    old.mechanic_id IS DISTINCT FROM new.mechanic_id
    OR (old.status IN ('waiting', 'live')) IS DISTINCT FROM (new.status IN ('waiting', 'live'))
)
EXECUTE FUNCTION ssr_private.mechanic_open_sessions_trg();

-- Function ssr_private.mechanic_state_truncate_trg
-- (db/functions/mechanic_state/ssr_private.mechanic_state_truncate_trg.sql): TRUNCATE fires no row triggers:
-- a TRUNCATE of sessions recounts mechanics.open_sessions (mechanic_state_rebuild), and one of
-- mechanic_availability reopens the intervals of the mechanics available now.
CREATE OR REPLACE TRIGGER mechanic_state_truncate
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.mechanic_state_truncate_trg();

-- workshop_stats: a session inserted with a serving workshop counts for it (function
-- workshop_stats_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();

-- workshop_stats: a session whose serving workshop changes moves its counts and its review (function
-- workshop_stats_sessions_trg, db/functions/). WHEN is evaluated on the final row, so a workshop_id set by a
-- BEFORE trigger counts too.
CREATE OR REPLACE TRIGGER workshop_stats_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS DISTINCT FROM new.workshop_id)
EXECUTE FUNCTION ssr_private.workshop_stats_sessions_trg();

-- Function ssr_private.workshop_stats_truncate_trg
-- (db/functions/workshop_stats/ssr_private.workshop_stats_truncate_trg.sql): workshop_stats: TRUNCATE fires
-- no row triggers, so a TRUNCATE of mechanics, sessions or reviews recounts the aggregates from scratch
-- (workshop_stats_rebuild).
CREATE OR REPLACE TRIGGER workshop_stats_truncate
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.workshop_stats_truncate_trg();
