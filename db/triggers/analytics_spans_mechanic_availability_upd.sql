-- analytics_span_days: a mechanic_availability row whose span closes or changes replaces its day pieces (function analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_upd
AFTER UPDATE ON mechanic_availability
FOR EACH ROW
WHEN (
    (old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL)
    AND (old.workshop_id, old.started_at, old.ended_at) IS DISTINCT FROM (new.workshop_id, new.started_at, new.ended_at)
)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();
