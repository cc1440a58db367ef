-- ssr:no-transaction
-- ssr:after-objects
-- 0046: fills mechanics.open_sessions (0040) and opens the presence intervals (0044) from the
-- data already there, online. It runs after the function/view/trigger files, so the
-- mechanic_open_sessions_* and mechanic_availability_log_* triggers already follow every
-- change. Then, one mechanic holding waiting or live sessions per transaction: lock its row
-- (a trigger adding a delta waits, or has committed and its session is counted), recount,
-- commit. Then one interval, started now, for each mechanic available now without an open
-- one (an interval a trigger opened meanwhile wins: ON CONFLICT DO NOTHING). Safe to run
-- again. Before this release accepted sessions never left waiting: they hold their
-- mechanic's slot until completed or marked no-show.
-- Inputs: none. Errors: none of its own.

DO $$
DECLARE
    v_id uuid;
BEGIN
    FOR v_id IN
        SELECT DISTINCT s.mechanic_id
        FROM sessions AS s
        WHERE s.mechanic_id IS NOT NULL AND s.status IN ('waiting', 'live')
    LOOP
        PERFORM 1 FROM mechanics AS m WHERE m.id = v_id FOR NO KEY UPDATE;
        UPDATE mechanics AS m
        SET open_sessions = (
            SELECT count(*)
            FROM sessions AS s
            WHERE s.mechanic_id = v_id AND s.status IN ('waiting', 'live')
        )
        WHERE m.id = v_id;
        COMMIT;
    END LOOP;
END
$$;

INSERT INTO mechanic_availability (mechanic_id, workshop_id, started_at)
SELECT
    m.id AS mechanic_id,
    m.workshop_id,
    now() AS started_at
FROM mechanics AS m
WHERE m.status = 'active' AND m.is_available
ON CONFLICT (mechanic_id) WHERE ended_at IS NULL DO NOTHING;
