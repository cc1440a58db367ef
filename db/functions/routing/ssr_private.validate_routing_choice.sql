-- validate_routing_choice: the routing type and preferred workshop a customer chose, checked.
-- Returns the normalised routing type (lower case; 'broadcast' when NULL or empty).
-- Raises SR400 (COLUMN routing_type / workshop_id) for an unknown routing type or a
-- workshop_only/hybrid choice without a workshop, SR404 (COLUMN workshop_id) for an
-- unknown workshop or one that is not active (pending or suspended workshops are unusable).
CREATE OR REPLACE FUNCTION ssr_private.validate_routing_choice(
    p_preferred_workshop_id uuid,
    p_routing_type text
) RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_type text := coalesce(nullif(lower(btrim(p_routing_type)), ''), 'broadcast');
    v_status text;
BEGIN
    IF v_type NOT IN ('workshop_only', 'hybrid', 'broadcast') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400',
            MESSAGE = format('routing_type must be one of workshop_only, hybrid, broadcast (got %L)', p_routing_type),
            COLUMN = 'routing_type';
    END IF;
    IF p_preferred_workshop_id IS NULL THEN
        IF v_type <> 'broadcast' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = format('workshop_id is required when routing_type is %s', v_type),
                COLUMN = 'workshop_id';
        END IF;
        RETURN v_type;
    END IF;
    SELECT o.status INTO v_status FROM organizations AS o WHERE o.id = p_preferred_workshop_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404',
            MESSAGE = format('workshop_id %s: no such workshop', p_preferred_workshop_id),
            COLUMN = 'workshop_id';
    END IF;
    IF v_status <> 'active' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404',
            MESSAGE = format('workshop_id %s: workshop is %s, not active', p_preferred_workshop_id, v_status),
            COLUMN = 'workshop_id';
    END IF;
    RETURN v_type;
END
$$;

COMMENT ON FUNCTION ssr_private.validate_routing_choice(uuid, text) IS
'Checks a routing choice; returns the normalised routing type or raises SR400/SR404 with COLUMN routing_type or workshop_id.';
