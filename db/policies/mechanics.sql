-- mechanics_mechanic_select: the row-level-security policy of the role mechanic on mechanics
-- (created by 0101; RLS on, no other policy: any other role granted SELECT sees nothing).
-- A mechanic (the verified identity, ssr_private.current_mechanic_id(): the sub of
-- request.jwt.claims whose role is mechanic) sees their own row, in the columns granted to
-- the role (id, workshop_id, status, is_available, capacity, open_sessions): what the
-- session_requests policy reads. No identity: nothing. No errors: rows are hidden.
ALTER POLICY mechanics_mechanic_select ON mechanics
USING (id = (SELECT ssr_private.current_mechanic_id()));
COMMENT ON POLICY mechanics_mechanic_select ON mechanics IS
'A mechanic (role mechanic, identity ssr_private.current_mechanic_id()) sees their own row only.';
