-- 0101: row-level security denies by default every role the package grants SELECT to.
--   session_requests  the policy session_requests_other_roles let every role that is not
--                     mechanic see every row (a role granted SELECT later, e.g. by a DBA for a
--                     report, saw every customer's requests): dropped; only the mechanic
--                     policy is left, so any other role granted SELECT sees nothing;
--   mechanics         RLS on; role mechanic sees its own row only (the columns it is granted:
--                     what its session_requests policy reads);
--   organizations     RLS on; role mechanic sees its own workshop's row only (id, status);
--   plans             RLS on; the app's login ssr_app reads the price list (every row).
-- The owner is not subject to RLS (no FORCE ROW LEVEL SECURITY): the owner's SECURITY
-- DEFINER functions, the views (owned by the owner) and the triggers keep seeing every row,
-- as before. The policies' bodies live in db/policies/<table>.sql (applied after every run).
-- Errors: none of its own.
DROP POLICY IF EXISTS session_requests_other_roles ON session_requests;

ALTER TABLE mechanics ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS mechanics_mechanic_select ON mechanics;
CREATE POLICY mechanics_mechanic_select ON mechanics
FOR SELECT TO mechanic
USING (id = (SELECT ssr_private.current_mechanic_id()));

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS organizations_mechanic_select ON organizations;
CREATE POLICY organizations_mechanic_select ON organizations
FOR SELECT TO mechanic
USING (id = (SELECT m.workshop_id FROM mechanics AS m WHERE m.id = (SELECT ssr_private.current_mechanic_id())));

ALTER TABLE plans ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS plans_app_select ON plans;
CREATE POLICY plans_app_select ON plans
FOR SELECT TO ssr_app
USING (TRUE);
