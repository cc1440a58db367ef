-- ssr_private.assert_staff: refuses unless the transaction verifiably acts for the staff member
-- p_staff_id (ssr_private.assert_acting_for('staff', ...): the app's app.staff_id from a verified
-- token) and that member is listed in staff_members, active, and of the level p_level or higher
-- (support < admin). Returns their row. Every function that acts for staff calls it first.
-- Errors: SR400 (COLUMN staff_id) missing; SR400 (COLUMN level) unknown level; SR403
-- (COLUMN staff_id) not acting for them, not staff, inactive, or below the level.
CREATE OR REPLACE FUNCTION ssr_private.assert_staff(p_staff_id uuid, p_level text DEFAULT 'support')
RETURNS staff_members
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_member staff_members;
BEGIN
    IF p_staff_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'staff_id is required', COLUMN = 'staff_id';
    END IF;
    IF p_level IS NULL OR p_level NOT IN ('support', 'admin') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('level must be support or admin (got %L)', p_level), COLUMN = 'level';
    END IF;
    PERFORM ssr_private.assert_acting_for('staff', p_staff_id);
    SELECT * INTO v_member FROM staff_members AS s WHERE s.id = p_staff_id;
    IF NOT FOUND OR NOT v_member.is_active THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403', MESSAGE = format('staff_id %s: not an active staff member', p_staff_id),
            COLUMN = 'staff_id';
    END IF;
    IF p_level = 'admin' AND v_member.staff_role <> 'admin' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403', MESSAGE = format('staff_id %s: this needs an admin (is %s)', p_staff_id, v_member.staff_role),
            COLUMN = 'staff_id';
    END IF;
    RETURN v_member;
END
$$;

COMMENT ON FUNCTION ssr_private.assert_staff(uuid, text) IS
'Refuses (SR403) unless the transaction acts for an active staff member of at least the given level; returns their row.';
