-- get_staff_mechanics: the mechanics and their state, for support, read-only, acting for an active
-- staff member, by workshop then name (independents last). Per mechanic: workshop, status
-- (active, suspended), state: suspended | offline | busy (online, at capacity) | available
-- (online, a free slot: offered requests), online (mechanics.is_available, the switch), last
-- seen, open sessions against capacity, sessions completed, reviews and their average rating.
-- p_limit 1..500 (default 200).
-- Errors, in order: SR400 (limit) out of range; those of ssr_private.assert_staff (SR400/SR403).
CREATE OR REPLACE FUNCTION get_staff_mechanics(p_staff_id uuid, p_limit integer DEFAULT 200)
RETURNS TABLE (
    mechanic_id uuid,
    name text,
    email text,
    workshop_name text,
    status text,
    state text,
    online boolean,
    last_seen_at timestamptz,
    open_sessions integer,
    capacity integer,
    completed_sessions integer,
    review_count integer,
    avg_rating numeric
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be from 1 to 500 (got %s)', p_limit), COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');

    RETURN QUERY
    SELECT
        m.id,
        m.name,
        m.email,
        o.name,
        m.status,
        CASE
            WHEN m.status <> 'active' THEN 'suspended'
            WHEN NOT m.is_available THEN 'offline'
            WHEN m.open_sessions >= m.capacity THEN 'busy'
            ELSE 'available'
        END,
        m.is_available,
        m.last_seen_at,
        m.open_sessions,
        m.capacity,
        (SELECT count(*)::integer FROM sessions AS s WHERE s.mechanic_id = m.id AND s.status = 'completed'),
        rv.n,
        rv.rating
    FROM mechanics AS m
    LEFT JOIN organizations AS o ON m.workshop_id = o.id
    CROSS JOIN LATERAL (
        SELECT count(*)::integer AS n, round(avg(r.rating), 2) AS rating FROM reviews AS r WHERE r.mechanic_id = m.id
    ) AS rv
    ORDER BY o.name NULLS LAST, m.name, m.id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_staff_mechanics(uuid, integer) IS
'Staff (support): mechanics with their workshop, state (suspended, offline, busy, available), load, sessions and '
'rating.';
