-- analytics_spans: a closed span inserted, changed or deleted (a call of sessions,
-- started_at to ended_at at the serving workshop_id; an interval of mechanic_availability)
-- replaces its pieces in analytics_span_days (analytics_day_pieces: cut at UTC days) and
-- queues the workshop-days of the old and new pieces for ssr_private.refresh_analytics(). Open spans
-- (ended_at NULL) and spans without a workshop have no pieces: the view adds open ones at
-- read time. The work is the days of the one span changed. Insert-only on the queue;
-- SECURITY DEFINER like the other queue triggers. Input: the row before and after
-- (TG_TABLE_NAME sessions or mechanic_availability); no errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_spans_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_source text := CASE TG_TABLE_NAME WHEN 'sessions' THEN 'session' ELSE 'availability' END;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        WITH gone AS (
            DELETE FROM analytics_span_days AS p
            WHERE p.source = v_source AND p.source_id = OLD.id::text
            RETURNING p.workshop_id, p.day
        )

        INSERT INTO analytics_changes (workshop_id, created_at)
        SELECT g.workshop_id, g.day::timestamp AT TIME ZONE 'UTC' FROM gone AS g;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.workshop_id IS NOT NULL AND NEW.ended_at IS NOT NULL THEN
        WITH made AS (
            INSERT INTO analytics_span_days (source, source_id, day, workshop_id, seconds)
            SELECT v_source, NEW.id::text, p.day, NEW.workshop_id, p.seconds
            FROM ssr_private.analytics_day_pieces(NEW.started_at, NEW.ended_at) AS p
            WHERE p.seconds > 0
            RETURNING workshop_id, day
        )

        INSERT INTO analytics_changes (workshop_id, created_at)
        SELECT m.workshop_id, m.day::timestamp AT TIME ZONE 'UTC' FROM made AS m;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.analytics_spans_trg() FROM PUBLIC;
