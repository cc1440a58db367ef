-- get_signed_in_person: who the signed-in person is, for the pages' header (their name, not their
-- role), acting for them. The app calls it once at sign-in and keeps the name in the session.
-- p_role customer | mechanic | staff; p_id their id (the token's sub).
-- Output: one row (role, id, name, detail): a customer's name (else the local part of their
-- email); a mechanic's name and their workshop's name (detail; NULL when independent); a staff
-- member's name and level (detail: support or admin). No row for a customer or mechanic the
-- database does not know.
-- Errors, in order: SR400 (role) not customer, mechanic or staff; SR400 (id) missing; SR403 the
-- transaction does not act for them (ssr_private.assert_acting_for), and for staff, not an active
-- staff member (ssr_private.assert_staff).
CREATE OR REPLACE FUNCTION get_signed_in_person(p_role text, p_id uuid)
RETURNS TABLE (role text, id uuid, name text, detail text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_staff staff_members;
BEGIN
    IF p_role IS NULL OR p_role NOT IN ('customer', 'mechanic', 'staff') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('role must be customer, mechanic or staff (got %L)', p_role),
            COLUMN = 'role';
    END IF;
    IF p_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'id is required', COLUMN = 'id';
    END IF;
    IF p_role = 'staff' THEN
        v_staff := ssr_private.assert_staff(p_id, 'support');
        RETURN QUERY SELECT 'staff'::text, v_staff.id, v_staff.name, v_staff.staff_role;
        RETURN;
    END IF;
    PERFORM ssr_private.assert_acting_for(p_role, p_id);
    IF p_role = 'customer' THEN
        RETURN QUERY
        SELECT 'customer'::text, c.id, coalesce(nullif(btrim(c.name), ''), split_part(c.email, '@', 1)), NULL::text
        FROM customers AS c
        WHERE c.id = p_id;
    ELSE
        RETURN QUERY
        SELECT 'mechanic'::text, m.id, m.name, o.name
        FROM mechanics AS m
        LEFT JOIN organizations AS o ON m.workshop_id = o.id
        WHERE m.id = p_id;
    END IF;
END
$$;

COMMENT ON FUNCTION get_signed_in_person(text, uuid) IS
'Who the signed-in customer, mechanic or staff member is (name, workshop or staff level), acting for them; '
'SR400/SR403 otherwise.';
