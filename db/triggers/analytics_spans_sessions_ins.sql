-- analytics_span_days: a sessions row inserted closed keeps its span's day pieces (function analytics_spans_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_spans_sessions_ins
AFTER INSERT ON sessions
FOR EACH ROW
WHEN (new.workshop_id IS NOT NULL AND new.started_at IS NOT NULL AND new.ended_at IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_spans_trg();
