-- analytics_span_days: a closed mechanic_availability row deleted takes its day pieces with it (function analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_mechanic_availability_del
AFTER DELETE ON mechanic_availability
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL AND old.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();
