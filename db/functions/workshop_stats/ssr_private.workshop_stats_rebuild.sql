-- Recomputes workshop_stats and routing_candidates (both counts) from scratch and returns how many
-- rows it corrected. The triggers keep both exact; this is the repair tool after a
-- TRUNCATE, a bulk load with triggers disabled, or a manual fix. It locks both tables
-- (SHARE ROW EXCLUSIVE) so trigger deltas cannot interleave with the recount.
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_rebuild()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_changed integer;
    v_deleted integer;
    v_candidates integer;
BEGIN
    LOCK TABLE workshop_stats, routing_candidates IN SHARE ROW EXCLUSIVE MODE;
    WITH fresh AS (
        SELECT
            o.id AS workshop_id,
            coalesce(m.total_mechanics, 0) AS total_mechanics,
            coalesce(m.active_mechanics, 0) AS active_mechanics,
            coalesce(m.available_mechanics, 0) AS available_mechanics,
            coalesce(s.sessions_served, 0) AS sessions_served,
            coalesce(s.review_count, 0) AS review_count,
            coalesce(s.rating_sum, 0) AS rating_sum
        FROM organizations AS o
        LEFT JOIN (
            SELECT
                mm.workshop_id,
                count(*) AS total_mechanics,
                count(*) FILTER (WHERE mm.status = 'active') AS active_mechanics,
                count(*) FILTER (
                    WHERE routing_mechanic_eligible(mm.status, mm.is_available AND mm.in_hours, mm.workshop_id, 'active')
                ) AS available_mechanics
            FROM mechanics AS mm
            WHERE mm.workshop_id IS NOT NULL
            GROUP BY mm.workshop_id
        ) AS m ON o.id = m.workshop_id
        LEFT JOIN (
            SELECT
                se.workshop_id,
                count(*) AS sessions_served,
                count(r.id) AS review_count,
                coalesce(sum(r.rating), 0) AS rating_sum
            FROM sessions AS se
            LEFT JOIN reviews AS r ON se.id = r.session_id
            WHERE se.workshop_id IS NOT NULL
            GROUP BY se.workshop_id
        ) AS s ON o.id = s.workshop_id
    )

    INSERT INTO workshop_stats AS ws (
        workshop_id, total_mechanics, active_mechanics, available_mechanics,
        sessions_served, review_count, rating_sum
    )
    SELECT
        f.workshop_id,
        f.total_mechanics,
        f.active_mechanics,
        f.available_mechanics,
        f.sessions_served,
        f.review_count,
        f.rating_sum
    FROM fresh AS f
    ON CONFLICT (workshop_id) DO UPDATE
    SET
        total_mechanics = excluded.total_mechanics,
        active_mechanics = excluded.active_mechanics,
        available_mechanics = excluded.available_mechanics,
        sessions_served = excluded.sessions_served,
        review_count = excluded.review_count,
        rating_sum = excluded.rating_sum
    WHERE (
        ws.total_mechanics, ws.active_mechanics, ws.available_mechanics,
        ws.sessions_served, ws.review_count, ws.rating_sum
    ) IS DISTINCT FROM (
        excluded.total_mechanics, excluded.active_mechanics, excluded.available_mechanics,
        excluded.sessions_served, excluded.review_count, excluded.rating_sum
    );
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    DELETE FROM workshop_stats AS ws
    WHERE NOT EXISTS (SELECT 1 FROM organizations AS o WHERE o.id = ws.workshop_id);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    INSERT INTO routing_candidates AS rc (id, eligible_mechanics, listed_workshops)
    SELECT
        TRUE,
        (SELECT count(*)::integer FROM ssr_private.routing_available_mechanics),
        (SELECT count(*)::integer FROM ssr_private.workshop_directory_listing)
    ON CONFLICT (id) DO UPDATE
    SET eligible_mechanics = excluded.eligible_mechanics, listed_workshops = excluded.listed_workshops
    WHERE
        (rc.eligible_mechanics, rc.listed_workshops)
        IS DISTINCT FROM (excluded.eligible_mechanics, excluded.listed_workshops);
    GET DIAGNOSTICS v_candidates = ROW_COUNT;
    RETURN v_changed + v_deleted + v_candidates;
END
$$;

COMMENT ON FUNCTION ssr_private.workshop_stats_rebuild() IS
'Recomputes workshop_stats and routing_candidates (eligible mechanics, listed workshops) from organizations, mechanics, sessions and reviews; returns the '
'number of rows corrected (0 when the trigger-maintained aggregates were exact).';
REVOKE ALL ON FUNCTION ssr_private.workshop_stats_rebuild() FROM PUBLIC;
