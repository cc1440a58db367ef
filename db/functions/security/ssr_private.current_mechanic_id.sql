-- ssr_private.current_mechanic_id: the mechanic the transaction verifiably acts for
-- (ssr_private.verified_identity('mechanic')), NULL when none. Used by the mechanic
-- row-level-security policy and, through ssr_private.assert_acting_for, by every function
-- that acts for a mechanic. SECURITY DEFINER so that the role mechanic needs EXECUTE on
-- this function only (the caller's SET ROLE and login, which decide, are unchanged by it).
-- No errors.
CREATE OR REPLACE FUNCTION ssr_private.current_mechanic_id()
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT ssr_private.verified_identity('mechanic')
$$;

COMMENT ON FUNCTION ssr_private.current_mechanic_id() IS
'Verified mechanic of the transaction (app.mechanic_id for the app login, request.jwt.claims sub for role mechanic); '
'NULL when none.';
