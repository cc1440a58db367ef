-- ssr_private.current_customer_id: the customer the transaction verifiably acts for
-- (ssr_private.verified_identity('customer')), NULL when none. The customer twin of
-- ssr_private.current_mechanic_id (SECURITY DEFINER for the same reason). No errors.
CREATE OR REPLACE FUNCTION ssr_private.current_customer_id()
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT ssr_private.verified_identity('customer')
$$;

COMMENT ON FUNCTION ssr_private.current_customer_id() IS
'Verified customer of the transaction (app.customer_id for the app login, request.jwt.claims sub for role customer); '
'NULL when none.';
