-- ssr_private.staff_action_record: appends one staff action to the audit
-- (ssr_private.staff_actions), in the caller's transaction: the action and its record commit
-- or roll back together. Called by the functions that act for staff, after assert_staff.
CREATE OR REPLACE FUNCTION ssr_private.staff_action_record(
    p_staff_id uuid,
    p_action text,
    p_subject text,
    p_details jsonb DEFAULT '{}'
) RETURNS bigint
LANGUAGE sql
VOLATILE
SET search_path = public, pg_temp
AS $$
INSERT INTO ssr_private.staff_actions (staff_id, action, subject, details)
VALUES (p_staff_id, p_action, p_subject, coalesce(p_details, '{}'))
RETURNING id
$$;

COMMENT ON FUNCTION ssr_private.staff_action_record(uuid, text, text, jsonb) IS
'Appends a staff action to the audit, in the caller''s transaction; returns its id.';
