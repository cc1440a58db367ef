-- get_staff_requests: the marketplace's pending session requests for support, oldest first (the
-- ones waiting longest on top), read-only, acting for an active staff member (support or admin).
-- Per request: age, plan, strategy and preferred workshop, the hybrid window and expiry, when it
-- escalated, the customer; who it is offered to now by THE offer rule
-- (ssr_private.routing_offered over the available mechanics: offered_count and the first 10
-- names, offered_to), and who declined it (declined_names).
-- p_limit 1..500 (default 100).
-- Errors, in order: SR400 (limit) out of range; those of ssr_private.assert_staff (SR400/SR403).
CREATE OR REPLACE FUNCTION get_staff_requests(p_staff_id uuid, p_limit integer DEFAULT 100)
RETURNS TABLE (
    request_id uuid,
    created_at timestamptz,
    age_seconds integer,
    plan_code text,
    routing_type text,
    preferred_workshop_name text,
    exclusive_until timestamptz,
    expires_at timestamptz,
    escalated_at timestamptz,
    customer_name text,
    offered_count integer,
    offered_to text[],
    declined_names text[]
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
        r.id,
        r.created_at,
        greatest(0, extract(EPOCH FROM now() - r.created_at))::integer,
        r.plan_code,
        r.routing_type,
        pw.name,
        CASE WHEN r.exclusive_until > now() THEN r.exclusive_until END,
        r.expires_at,
        r.escalated_at,
        coalesce(nullif(btrim(c.name), ''), split_part(c.email, '@', 1)),
        coalesce(o.n, 0)::integer,
        coalesce(o.names, '{}'),
        coalesce((
            SELECT array_agg(dm.name ORDER BY dm.name) FROM mechanics AS dm WHERE dm.id = ANY(r.declined_by)
        ), '{}')
    FROM session_requests AS r
    LEFT JOIN organizations AS pw ON r.preferred_workshop_id = pw.id
    LEFT JOIN customers AS c ON r.customer_id = c.id
    LEFT JOIN LATERAL (
        SELECT count(*) AS n, (array_agg(om.name ORDER BY om.name))[1:10] AS names
        FROM ssr_private.routing_offerable_mechanics AS a
        INNER JOIN mechanics AS om ON a.mechanic_id = om.id
        WHERE ssr_private.routing_offered(r, a.mechanic_id, a.workshop_id, now())
    ) AS o ON TRUE
    WHERE r.status = 'pending'
    ORDER BY r.created_at, r.id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_staff_requests(uuid, integer) IS
'Staff (support): pending requests, oldest first, with age, strategy, who they are offered to now and who declined.';
