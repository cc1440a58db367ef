-- organizations_mechanic_select: the row-level-security policy of the role mechanic on
-- organizations (created by 0101; RLS on, no other policy). A mechanic (the verified identity,
-- ssr_private.current_mechanic_id()) sees their own workshop's row, in the columns granted to
-- the role (id, status): what the session_requests policy reads. An independent mechanic, or
-- no identity: nothing. No errors: rows are hidden.
ALTER POLICY organizations_mechanic_select ON organizations
USING (id = (SELECT m.workshop_id FROM mechanics AS m WHERE m.id = (SELECT ssr_private.current_mechanic_id())));
COMMENT ON POLICY organizations_mechanic_select ON organizations IS
'A mechanic (role mechanic, identity ssr_private.current_mechanic_id()) sees their own workshop''s row only.';
