-- hours_refresh: brings mechanics.hours_scheduled and mechanics.in_hours up to date at p_now,
-- so that the maintained counts (workshop_stats.available_mechanics, routing_candidates),
-- whose triggers follow in_hours, change when the clock crosses a boundary. Without a
-- mechanic or workshop: every mechanic hours may concern (scheduled now, or with hours or
-- overrides of their own or of their workshop); the worker's job hours runs it every 30 s,
-- which bounds how stale the counts and in_hours are. With p_mechanic_id or p_workshop_id
-- (the hours triggers, at once): that mechanic, or that workshop's mechanics. Rows are
-- locked in id order (concurrent refreshes and accepts cannot deadlock on them) and only
-- rows that change are written. The decisions themselves (who is offered, who may accept)
-- check the hours at the instant (hours_open_at) and do not wait for this. Returns the
-- number of mechanics changed. No errors.
CREATE OR REPLACE FUNCTION ssr_private.hours_refresh(
    p_now timestamptz DEFAULT now(),
    p_mechanic_id uuid DEFAULT NULL,
    p_workshop_id uuid DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_row record;
    v_changed integer := 0;
BEGIN
    FOR v_row IN
        WITH cand AS (
            SELECT m.id FROM mechanics AS m
            WHERE
                p_mechanic_id IS NULL AND p_workshop_id IS NULL
                AND (
                    m.hours_scheduled
                    OR m.id IN (
                        SELECT h.mechanic_id FROM working_hours AS h WHERE h.mechanic_id IS NOT NULL
                        UNION
                        SELECT o.mechanic_id FROM hours_overrides AS o
                        WHERE o.mechanic_id IS NOT NULL AND o.day >= current_date - 1
                    )
                    OR m.workshop_id IN (
                        SELECT h.workshop_id FROM working_hours AS h WHERE h.workshop_id IS NOT NULL
                        UNION
                        SELECT o.workshop_id FROM hours_overrides AS o
                        WHERE o.workshop_id IS NOT NULL AND o.day >= current_date - 1
                    )
                )
            UNION
            SELECT m.id FROM mechanics AS m WHERE m.id = p_mechanic_id
            UNION
            SELECT m.id FROM mechanics AS m WHERE m.workshop_id = p_workshop_id
        )

        SELECT m.id, m.workshop_id, m.hours_scheduled, m.in_hours
        FROM mechanics AS m
        WHERE m.id IN (SELECT cand.id FROM cand)
        ORDER BY m.id
    LOOP
        WITH s AS (SELECT ssr_private.hours_scheduled_for(v_row.id, v_row.workshop_id) AS sched)
        UPDATE mechanics AS m
        SET
            hours_scheduled = s.sched,
            in_hours = NOT s.sched OR ssr_private.hours_open_at(v_row.id, v_row.workshop_id, p_now)
        FROM s
        WHERE
            m.id = v_row.id
            AND (m.hours_scheduled, m.in_hours)
            IS DISTINCT FROM (s.sched, NOT s.sched OR ssr_private.hours_open_at(v_row.id, v_row.workshop_id, p_now));
        IF FOUND THEN
            v_changed := v_changed + 1;
        END IF;
    END LOOP;
    RETURN v_changed;
END
$$;

COMMENT ON FUNCTION ssr_private.hours_refresh(timestamptz, uuid, uuid) IS
'Brings mechanics.hours_scheduled / in_hours up to date (all concerned, one mechanic or one workshop''s); the job hours.';
