-- ssr_private.apply_privileges: makes the function privileges exactly what the allowlists
-- ssr_private.api_functions() (schema public) and ssr_private.private_functions() (schema
-- ssr_private) say. Run by tools/migrate.py (and the psql script) at the end of every run,
-- after the function files, so a function re-created by its file (DROP + CREATE resets its
-- privileges) gets its grants back.
--   1. PUBLIC and the roles of the package (ssr_app, ssr_payments, ssr_worker, ssr_bi,
--      mechanic, customer, analytics) lose EXECUTE on every function of schemas public,
--      ssr_private and analytics (extension members are left alone);
--   2. each allowlisted function that exists is granted to its roles.
-- Returns the number of grants made. Errors: none of its own (a role missing from the
-- cluster raises undefined_object from GRANT).
CREATE OR REPLACE FUNCTION ssr_private.apply_privileges()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fn regprocedure;
    v_api record;
    v_role text;
    v_grants integer := 0;
BEGIN
    FOR v_fn IN
        SELECT p.oid::regprocedure
        FROM pg_proc AS p
        INNER JOIN pg_namespace AS n ON p.pronamespace = n.oid
        WHERE
            n.nspname IN ('public', 'ssr_private', 'analytics')
            AND NOT EXISTS (
                SELECT 1 FROM pg_depend AS d
                WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
            )
    LOOP
        EXECUTE format(
            'REVOKE ALL ON FUNCTION %s FROM PUBLIC, ssr_app, ssr_payments, ssr_worker, ssr_bi, mechanic, customer, '
            'analytics',
            v_fn
        );
    END LOOP;
    FOR v_api IN
        SELECT to_regprocedure('public.' || a.signature) AS fn, a.grantees
        FROM ssr_private.api_functions() AS a
        UNION ALL
        SELECT to_regprocedure('ssr_private.' || a.signature) AS fn, a.grantees
        FROM ssr_private.private_functions() AS a
    LOOP
        CONTINUE WHEN v_api.fn IS NULL;
        FOREACH v_role IN ARRAY v_api.grantees LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_api.fn, v_role);
            v_grants := v_grants + 1;
        END LOOP;
    END LOOP;
    RETURN v_grants;
END
$$;

COMMENT ON FUNCTION ssr_private.apply_privileges() IS
'Revokes EXECUTE from PUBLIC and the roles of the package on all our functions, then grants the allowlists '
'(ssr_private.api_functions(), ssr_private.private_functions()); returns the number of grants.';
