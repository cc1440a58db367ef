-- routing_current_mechanic_id: the mechanic the current database session acts for,
-- from SET app.mechanic_id = '<uuid>' or PostgREST's request.jwt.claims ->> 'mechanic_id'.
CREATE OR REPLACE FUNCTION routing_current_mechanic_id()
RETURNS uuid
LANGUAGE sql
STABLE
AS $$
SELECT coalesce(
    nullif(current_setting('app.mechanic_id', TRUE), ''),
    nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb ->> 'mechanic_id'
)::uuid
$$;

COMMENT ON FUNCTION routing_current_mechanic_id() IS
'Mechanic id of the current session (app.mechanic_id, else request.jwt.claims.mechanic_id); NULL when unset.';
