-- routing_current_customer_id: the customer the current database session acts for, from
-- SET app.customer_id = '<uuid>' or PostgREST's request.jwt.claims ->> 'customer_id'; NULL
-- when unset. The customer twin of routing_current_mechanic_id. No errors (a malformed
-- value raises 22P02).
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
