-- 0035: least privilege. Three schemas and the login roles' groups:
--   public       the API functions the app and the documented roles call (and the tables);
--   ssr_private  helpers, trigger functions and the eligibility view: no USAGE for PUBLIC,
--                nothing in it is callable by the app's login;
--   analytics    the BI views, readable by the role analytics only.
-- Roles (cluster-wide, created only when missing, never with a password; a DBA may
-- pre-create them, then the migration owner needs no CREATEROLE):
--   ssr_app   the app's group/login: EXECUTE on the API functions granted to it, no table writes.
--             A DBA gives it a password and LOGIN (ALTER ROLE ssr_app LOGIN PASSWORD '...')
--             or grants it to the app's own login (GRANT ssr_app TO my_app_login).
--   customer  PostgREST-style role for customers (identity from request.jwt.claims).
-- Function privileges are granted in one place, from the allowlist in
-- ssr_private.api_functions(), by ssr_private.apply_privileges(), which the migration
-- runner calls at the end of every run.
-- On a database migrated before this file, the helpers, trigger functions and views that
-- used to live in public are moved (ALTER ... SET SCHEMA keeps triggers and grants);
-- their files then re-create them in place.
-- Errors: insufficient_privilege when a role is missing and the owner may not create roles.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ssr_app') THEN
        CREATE ROLE ssr_app NOLOGIN;
        COMMENT ON ROLE ssr_app IS
        'The app''s role: EXECUTE on the API functions granted to it (ssr_private.api_functions()), '
        'no table writes. Give it LOGIN and a password, or grant it to the app''s login.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'customer') THEN
        CREATE ROLE customer NOLOGIN;
        COMMENT ON ROLE customer IS
        'Customers through a PostgREST-style gateway: identity from request.jwt.claims (sub, role = customer).';
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created concurrently by a migration of another database of the cluster
END
$$;

CREATE SCHEMA IF NOT EXISTS ssr_private;
COMMENT ON SCHEMA ssr_private IS
'Internal helpers, trigger functions and the eligibility view of Smart Session Routing; no USAGE for PUBLIC.';
REVOKE ALL ON SCHEMA ssr_private FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS analytics;
COMMENT ON SCHEMA analytics IS
'The BI views (workshop_session_analytics, routing_effectiveness and their _mv copies); '
'role analytics finds them through its default search_path ("$user", public).';
REVOKE ALL ON SCHEMA analytics FROM PUBLIC;
GRANT USAGE ON SCHEMA analytics TO analytics;

-- Functions created from now on by the migration owner, in any schema, are not executable
-- by PUBLIC (the global default privileges; a per-schema REVOKE could not remove it).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO ssr_app, customer;
-- The price list is the one table the app reads directly (the checkout page joins it).
GRANT SELECT ON plans TO ssr_app;
-- The mechanic row-level-security policy calls ssr_private.current_mechanic_id().
GRANT USAGE ON SCHEMA ssr_private TO mechanic;

-- Databases migrated before this file: move what now lives elsewhere.
DO $$
DECLARE
    v_fn text;
    v_rel record;
BEGIN
    FOREACH v_fn IN ARRAY ARRAY[
        'routing_offer_score(text,uuid,timestamptz,uuid,timestamptz)',
        'routing_publish(session_requests,text)',
        'validate_routing_choice(uuid,text)',
        'fulfill_checkout_existing(text,uuid)',
        'workshop_stats_apply(uuid,integer,integer,integer,bigint,bigint,bigint)',
        'routing_events_append_only()',
        'routing_outbox_notify()',
        'routing_audit_request()',
        'routing_fill_request_workshop()',
        'routing_sync_session()',
        'workshop_stats_mechanics_trg()',
        'workshop_stats_organizations_trg()',
        'workshop_stats_reviews_trg()',
        'workshop_stats_sessions_trg()',
        'workshop_stats_truncate_trg()'
    ] LOOP
        IF to_regprocedure('public.' || v_fn) IS NOT NULL THEN
            EXECUTE format('ALTER FUNCTION public.%s SET SCHEMA ssr_private', v_fn);
        END IF;
    END LOOP;
    -- Replaced by ssr_private.current_mechanic_id() (fail-closed).
    DROP FUNCTION IF EXISTS public.routing_current_mechanic_id();
    FOR v_rel IN
        SELECT
            c.relname,
            c.relkind,
            CASE WHEN c.relname = 'routing_available_mechanics' THEN 'ssr_private' ELSE 'analytics' END AS target
        FROM pg_class AS c
        INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
        WHERE
            n.nspname = 'public'
            AND c.relname IN (
                'routing_available_mechanics', 'workshop_session_analytics', 'routing_effectiveness',
                'workshop_session_analytics_mv', 'routing_effectiveness_mv'
            )
    LOOP
        EXECUTE format(
            'ALTER %s public.%I SET SCHEMA %I',
            CASE WHEN v_rel.relkind = 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, v_rel.relname, v_rel.target
        );
    END LOOP;
END
$$;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ssr_private FROM PUBLIC;

-- Forward declaration, fail-closed: the policy below needs the function to exist;
-- db/functions/current_mechanic_id.sql replaces this body in the same run.
CREATE OR REPLACE FUNCTION ssr_private.current_mechanic_id()
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT NULL::uuid $$;
REVOKE ALL ON FUNCTION ssr_private.current_mechanic_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ssr_private.current_mechanic_id() TO mechanic;

-- The mechanic policy: the mechanic is the verified identity (request.jwt.claims sub with
-- role mechanic), never a setting the session chose itself.
ALTER POLICY session_requests_mechanic_select ON session_requests
USING (
    mechanic_id = (SELECT ssr_private.current_mechanic_id())
    OR (
        status = 'pending'
        AND (expires_at IS NULL OR expires_at > now())
        AND EXISTS (
            SELECT 1
            FROM mechanics AS m
            LEFT JOIN organizations AS o ON m.workshop_id = o.id
            WHERE
                m.id = (SELECT ssr_private.current_mechanic_id())
                AND m.status = 'active'
                AND m.is_available
                AND (m.workshop_id IS NULL OR o.status = 'active')
                AND (
                    session_requests.routing_type = 'broadcast'
                    OR (
                        session_requests.routing_type = 'workshop_only'
                        AND m.workshop_id = session_requests.preferred_workshop_id
                    )
                    OR (
                        session_requests.routing_type = 'hybrid'
                        AND (
                            m.workshop_id = session_requests.preferred_workshop_id
                            OR session_requests.exclusive_until IS NULL
                            OR session_requests.exclusive_until <= now()
                        )
                    )
                )
        )
    )
);
COMMENT ON POLICY session_requests_mechanic_select ON session_requests IS
'A mechanic (role mechanic, identity ssr_private.current_mechanic_id(): the sub of request.jwt.claims whose role '
'is mechanic) sees the pending requests offered to them now (same rule as get_mechanic_offers) and those they accepted.';
