-- mechanic_state_rebuild: recounts mechanics.open_sessions from sessions (assigned and
-- waiting or live) and reconciles the open intervals of mechanic_availability with who is
-- available now (opens a missing one, closes one of a mechanic no longer available).
-- The triggers keep both exact; this is the repair tool after a TRUNCATE, a bulk load
-- with triggers disabled, or a manual fix. Returns how many rows it corrected. No errors.
-- Locks mechanics (SHARE ROW EXCLUSIVE) so concurrent trigger deltas cannot interleave.
CREATE OR REPLACE FUNCTION ssr_private.mechanic_state_rebuild()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_counts integer;
    v_opened integer;
    v_closed integer;
BEGIN
    LOCK TABLE mechanics IN SHARE ROW EXCLUSIVE MODE;
    UPDATE mechanics AS m
    SET open_sessions = coalesce(s.n, 0)
    FROM mechanics AS m2
    LEFT JOIN (
        SELECT se.mechanic_id, count(*)::integer AS n
        FROM sessions AS se
        WHERE se.mechanic_id IS NOT NULL AND se.status IN ('waiting', 'live')
        GROUP BY se.mechanic_id
    ) AS s ON m2.id = s.mechanic_id
    WHERE m.id = m2.id AND m.open_sessions IS DISTINCT FROM coalesce(s.n, 0);
    GET DIAGNOSTICS v_counts = ROW_COUNT;

    UPDATE mechanic_availability AS a
    SET ended_at = greatest(now(), a.started_at)
    FROM mechanics AS m
    WHERE
        a.mechanic_id = m.id AND a.ended_at IS NULL
        AND (
            m.status <> 'active' OR NOT m.is_available
            OR a.workshop_id IS DISTINCT FROM m.workshop_id
        );
    GET DIAGNOSTICS v_closed = ROW_COUNT;

    INSERT INTO mechanic_availability (mechanic_id, workshop_id, started_at)
    SELECT m.id, m.workshop_id, now()
    FROM mechanics AS m
    WHERE
        m.status = 'active' AND m.is_available
        AND NOT EXISTS (
            SELECT 1 FROM mechanic_availability AS a
            WHERE a.mechanic_id = m.id AND a.ended_at IS NULL
        );
    GET DIAGNOSTICS v_opened = ROW_COUNT;
    RETURN v_counts + v_closed + v_opened;
END
$$;

COMMENT ON FUNCTION ssr_private.mechanic_state_rebuild() IS
'Recounts mechanics.open_sessions and reconciles open mechanic_availability intervals with is_available; returns the '
'number of rows corrected. Owner only.';
