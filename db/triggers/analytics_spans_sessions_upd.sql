-- analytics_span_days: a sessions row whose span closes or changes replaces its day pieces (function analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL)
    AND (old.workshop_id, old.started_at, old.ended_at) IS DISTINCT FROM (new.workshop_id, new.started_at, new.ended_at)
)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();
