-- get_staff_workshops: the workshops (organizations) and their state, for support, read-only,
-- acting for an active staff member, by name. Per workshop: status (active, pending, suspended),
-- contact, listed (in the directory now: active with an available mechanic), its mechanics
-- (total, active, online and free now, busy: online at capacity), sessions served, reviews and
-- the rating (workshop_stats), pending requests that prefer it, and its routing policy's name
-- (NULL: the default).
-- p_limit 1..500 (default 200).
-- Errors, in order: SR400 (limit) out of range; those of ssr_private.assert_staff (SR400/SR403).
CREATE OR REPLACE FUNCTION get_staff_workshops(p_staff_id uuid, p_limit integer DEFAULT 200)
RETURNS TABLE (
    workshop_id uuid,
    name text,
    status text,
    contact_email text,
    listed boolean,
    total_mechanics integer,
    active_mechanics integer,
    available_mechanics integer,
    busy_mechanics integer,
    sessions_served bigint,
    review_count bigint,
    avg_rating numeric,
    pending_requests integer,
    routing_policy_name text
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
        o.id,
        o.name,
        o.status,
        o.contact_email,
        o.status = 'active' AND coalesce(m.available, 0) > 0,
        coalesce(m.total, 0)::integer,
        coalesce(m.active, 0)::integer,
        coalesce(m.available, 0)::integer,
        coalesce(m.busy, 0)::integer,
        coalesce(ws.sessions_served, 0),
        coalesce(ws.review_count, 0),
        CASE WHEN ws.review_count > 0 THEN round(ws.rating_sum::numeric / ws.review_count, 2) END,
        (
            SELECT count(*)::integer FROM session_requests AS r
            WHERE r.preferred_workshop_id = o.id AND r.status = 'pending'
        ),
        rp.name
    FROM organizations AS o
    LEFT JOIN workshop_stats AS ws ON o.id = ws.workshop_id
    LEFT JOIN routing_policies AS rp ON o.routing_policy_id = rp.id
    LEFT JOIN LATERAL (
        SELECT
            count(*) AS total,
            count(*) FILTER (WHERE x.status = 'active') AS active,
            count(*) FILTER (
                WHERE x.status = 'active' AND x.is_available AND x.open_sessions < x.capacity
            ) AS available,
            count(*) FILTER (
                WHERE x.status = 'active' AND x.is_available AND x.open_sessions >= x.capacity
            ) AS busy
        FROM mechanics AS x
        WHERE x.workshop_id = o.id
    ) AS m ON TRUE
    ORDER BY o.name, o.id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_staff_workshops(uuid, integer) IS
'Staff (support): workshops with their status, listing, mechanics online and busy, sessions, rating, pending '
'requests and routing policy.';
