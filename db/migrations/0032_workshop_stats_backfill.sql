-- ssr:no-transaction
-- ssr:after-objects
-- 0032: fills workshop_stats (0030) from the data already there, online. It runs after the
-- function/view/trigger files, so the workshop_stats_* triggers already count every change;
-- creating them waited for every transaction that wrote without them. Then, one workshop
-- per transaction: lock its row (a trigger adding a delta waits, or has committed and its
-- change is counted), recount from mechanics, sessions and reviews, commit. A change
-- committed after the recount adds its delta to the recounted row: nothing is counted twice
-- or lost, and writers wait at most one workshop's recount. Safe to run again.
-- Inputs: none. Errors: none of its own.

DO $$
DECLARE
    v_workshop uuid;
BEGIN
    FOR v_workshop IN SELECT o.id FROM organizations AS o ORDER BY o.id LOOP
        INSERT INTO workshop_stats (workshop_id) VALUES (v_workshop)
        ON CONFLICT (workshop_id) DO NOTHING;
        PERFORM 1 FROM workshop_stats AS ws WHERE ws.workshop_id = v_workshop FOR UPDATE;
        UPDATE workshop_stats AS ws
        SET
            total_mechanics = m.total_mechanics,
            active_mechanics = m.active_mechanics,
            available_mechanics = m.available_mechanics,
            sessions_served = s.sessions_served,
            review_count = s.review_count,
            rating_sum = s.rating_sum
        FROM
            (
                SELECT
                    count(*) AS total_mechanics,
                    count(*) FILTER (WHERE mm.status = 'active') AS active_mechanics,
                    count(*) FILTER (WHERE mm.status = 'active' AND mm.is_available) AS available_mechanics
                FROM mechanics AS mm
                WHERE mm.workshop_id = v_workshop
            ) AS m,
            (
                SELECT
                    count(*) AS sessions_served,
                    count(r.id) AS review_count,
                    coalesce(sum(r.rating), 0) AS rating_sum
                FROM sessions AS se
                LEFT JOIN reviews AS r ON se.id = r.session_id
                WHERE se.workshop_id = v_workshop
            ) AS s
        WHERE ws.workshop_id = v_workshop;
        COMMIT;
    END LOOP;
END
$$;
