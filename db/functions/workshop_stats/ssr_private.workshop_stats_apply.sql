-- Adds deltas to one workshop's aggregates (used by the workshop_stats_* triggers).
-- A row-level UPDATE ... SET x = x + delta: concurrent writers serialise on the row
-- and never lose an update. The row is created if missing (INSERT ... ON CONFLICT).
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_apply(
    p_workshop_id uuid,
    p_total integer DEFAULT 0,
    p_active integer DEFAULT 0,
    p_available integer DEFAULT 0,
    p_sessions bigint DEFAULT 0,
    p_reviews bigint DEFAULT 0,
    p_rating_sum bigint DEFAULT 0
)
RETURNS void
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
    IF p_workshop_id IS NULL
        OR (p_total = 0 AND p_active = 0 AND p_available = 0
            AND p_sessions = 0 AND p_reviews = 0 AND p_rating_sum = 0) THEN
        RETURN;
    END IF;
    UPDATE workshop_stats AS ws
    SET
        total_mechanics = ws.total_mechanics + p_total,
        active_mechanics = ws.active_mechanics + p_active,
        available_mechanics = ws.available_mechanics + p_available,
        sessions_served = ws.sessions_served + p_sessions,
        review_count = ws.review_count + p_reviews,
        rating_sum = ws.rating_sum + p_rating_sum
    WHERE ws.workshop_id = p_workshop_id;
    IF NOT FOUND THEN
        INSERT INTO workshop_stats AS ws (
            workshop_id, total_mechanics, active_mechanics, available_mechanics,
            sessions_served, review_count, rating_sum
        )
        VALUES (p_workshop_id, p_total, p_active, p_available, p_sessions, p_reviews, p_rating_sum)
        ON CONFLICT (workshop_id) DO UPDATE
        SET
            total_mechanics = ws.total_mechanics + excluded.total_mechanics,
            active_mechanics = ws.active_mechanics + excluded.active_mechanics,
            available_mechanics = ws.available_mechanics + excluded.available_mechanics,
            sessions_served = ws.sessions_served + excluded.sessions_served,
            review_count = ws.review_count + excluded.review_count,
            rating_sum = ws.rating_sum + excluded.rating_sum;
    END IF;
END
$$;

COMMENT ON FUNCTION ssr_private.workshop_stats_apply(uuid, integer, integer, integer, bigint, bigint, bigint) IS
'Internal: adds deltas to workshop_stats for one workshop (no-op for NULL or all-zero deltas).';
REVOKE ALL ON FUNCTION ssr_private.workshop_stats_apply(uuid, integer, integer, integer, bigint, bigint, bigint) FROM PUBLIC;
