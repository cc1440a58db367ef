-- get_booking_options: what the booking page of one workshop offers: the workshop (active,
-- with its available mechanics now) and every plan with its price, one row per plan.
-- Input: p_workshop_id (the workshop chosen in the directory).
-- Errors, in this order: SR400 COLUMN workshop_id when it is NULL; SR404 COLUMN workshop_id
-- when no such workshop exists or it is not active (it cannot be booked).
-- SECURITY DEFINER (search_path pinned): the app's login has no table privileges.
CREATE OR REPLACE FUNCTION get_booking_options(p_workshop_id uuid)
RETURNS TABLE (
    workshop_id uuid,
    workshop_name text,
    available_mechanics integer,
    plan_code text,
    plan_name text,
    price_minor integer,
    currency text,
    duration_minutes integer
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_name text;
BEGIN
    IF p_workshop_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'workshop_id is required', COLUMN = 'workshop_id';
    END IF;
    SELECT o.name INTO v_name FROM organizations AS o WHERE o.id = p_workshop_id AND o.status = 'active';
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('workshop_id %s: no such active workshop', p_workshop_id),
            COLUMN = 'workshop_id';
    END IF;
    RETURN QUERY
    SELECT
        p_workshop_id,
        v_name,
        (SELECT count(*)::integer FROM ssr_private.routing_available_mechanics AS a WHERE a.workshop_id = p_workshop_id),
        pl.code,
        pl.name,
        pl.price_minor,
        pl.currency,
        pl.duration_minutes
    FROM plans AS pl
    ORDER BY pl.price_minor, pl.code;
END
$$;

COMMENT ON FUNCTION get_booking_options(uuid) IS
'Booking page of a workshop: its name and available mechanics, and every plan with price and duration.';
