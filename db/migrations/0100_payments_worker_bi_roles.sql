-- 0100: one login per power. Until now the app's login ssr_app could record a payment
-- (fulfill_checkout_purchase with payment_status 'paid' and any amount) and set the
-- customer or mechanic it acts for; the worker's jobs ran as the owner. From here:
--   ssr_payments  fulfillment and Stripe events (the webhook, the success page's
--                 fulfillment): EXECUTE on those API functions only; ssr_app loses them;
--   ssr_worker    the worker's jobs (sweep, analytics refresh, outbox relay and prune,
--                 refunds, reconciliation): EXECUTE on those ssr_private functions only
--                 (SECURITY DEFINER), listed in ssr_private.private_functions();
--   ssr_bi        the login role of BI tools: a member of analytics, its sessions read-only
--                 by default (ALTER ROLE ssr_bi SET default_transaction_read_only = on).
-- The grants themselves are made by ssr_private.apply_privileges() at the end of the run,
-- from the allowlists; this file creates the roles (cluster-wide, only when missing, NOLOGIN,
-- never with a password: a DBA gives them LOGIN and a password or grants them to existing
-- logins, docs/OPERATIONS.md) and gives them USAGE on the schemas they call into.
-- Safe to run again. Errors: insufficient_privilege when a role is missing and the owner may
-- not create roles (a DBA creates them first, as for ssr_app); when ssr_bi exists without the
-- read-only default and the owner may not alter it, a WARNING names the statement to run.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ssr_payments') THEN
        CREATE ROLE ssr_payments NOLOGIN;
        COMMENT ON ROLE ssr_payments IS
        'The payments login of the app (PAYMENTS_DATABASE_URL): Stripe events, fulfillment, the success page. '
        'EXECUTE on those API functions only (ssr_private.api_functions()).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ssr_worker') THEN
        CREATE ROLE ssr_worker NOLOGIN;
        COMMENT ON ROLE ssr_worker IS
        'The worker''s login (WORKER_DATABASE_URL): EXECUTE on the job functions of ssr_private listed in '
        'ssr_private.private_functions(), nothing else.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ssr_bi') THEN
        CREATE ROLE ssr_bi NOLOGIN;
        COMMENT ON ROLE ssr_bi IS
        'The login role of BI tools: a member of analytics (SELECT on the analytics views), sessions read-only '
        'by default. A personal BI login granted it needs the setting too (ssr_private.bi_logins_not_read_only()).';
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created concurrently by a migration of another database of the cluster
END
$$;

DO $$
BEGIN
    IF NOT pg_has_role('ssr_bi', 'analytics', 'MEMBER') THEN
        GRANT analytics TO ssr_bi;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_db_role_setting AS s CROSS JOIN LATERAL unnest(s.setconfig) AS c (setting)
        WHERE
            s.setrole = 'ssr_bi'::regrole AND s.setdatabase = 0
            AND lower(c.setting) IN ('default_transaction_read_only=on', 'default_transaction_read_only=true')
    ) THEN
        BEGIN
            ALTER ROLE ssr_bi SET default_transaction_read_only = on;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING USING MESSAGE =
                'ssr_bi sessions are not read-only by default: a DBA must run '
                'ALTER ROLE ssr_bi SET default_transaction_read_only = on';
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO ssr_payments, ssr_worker;
GRANT USAGE ON SCHEMA ssr_private TO ssr_worker;
