-- routing_current_customer_id: the customer the current database session acts for,
-- from SET app.customer_id = '<uuid>' (the app sets it per transaction) or PostgREST's
-- request.jwt.claims ->> 'customer_id'. NULL when unset.
CREATE OR REPLACE FUNCTION routing_current_customer_id()
RETURNS uuid
LANGUAGE sql
STABLE
AS $$
SELECT coalesce(
    nullif(current_setting('app.customer_id', TRUE), ''),
    nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb ->> 'customer_id'
)::uuid
$$;

COMMENT ON FUNCTION routing_current_customer_id() IS
'Customer id of the current session (app.customer_id, else request.jwt.claims.customer_id); NULL when unset.';
