-- pgTAP: least privilege. The app's role ssr_app is neither superuser nor owner, writes no
-- table, cannot use ssr_private, executes exactly the functions the allowlist
-- (ssr_private.api_functions()) grants it; PUBLIC executes nothing of ours; every function
-- in public is on the allowlist; security definers pin their search_path.
-- tap_as(role, sql) runs sql after SET LOCAL ROLE role and returns 'ok' or the SQLSTATE.
BEGIN;
SELECT no_plan();

CREATE FUNCTION pg_temp.tap_as(p_role text, p_sql text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_state text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', p_role);
    BEGIN
        EXECUTE p_sql;
        v_state := 'ok';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
    END;
    RESET ROLE;
    RETURN v_state;
END
$$;

CREATE TEMP VIEW tap_ours AS
SELECT
    p.oid,
    n.nspname,
    p.oid::regprocedure AS fn,
    p.prosecdef,
    p.proconfig
FROM pg_proc AS p
INNER JOIN pg_namespace AS n ON p.pronamespace = n.oid
WHERE
    n.nspname IN ('public', 'ssr_private', 'analytics')
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS d
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    );

SELECT is(
    (SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'ssr_app'), FALSE,
    'ssr_app is no superuser and has no CREATEROLE, CREATEDB or BYPASSRLS'
);
SELECT is_empty(
    $$SELECT c.oid FROM pg_class AS c WHERE c.relowner = 'ssr_app'::regrole
      UNION ALL SELECT p.oid FROM pg_proc AS p WHERE p.proowner = 'ssr_app'::regrole$$,
    'ssr_app owns nothing'
);
SELECT is_empty(
    $$SELECT c.oid::regclass FROM pg_class AS c INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
      WHERE n.nspname IN ('public', 'ssr_private', 'analytics', 'ssr_meta') AND c.relkind IN ('r', 'p', 'v', 'm')
        AND has_table_privilege('ssr_app', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')$$,
    'ssr_app may not INSERT, UPDATE, DELETE or TRUNCATE any table or view'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$INSERT INTO organizations (name, contact_email) VALUES ('X', 'x@x.example')$$),
    '42501', 'a direct INSERT by the app is refused'
);
SELECT is(pg_temp.tap_as('ssr_app', 'UPDATE mechanics SET is_available = TRUE'), '42501', 'a direct UPDATE is refused');
SELECT is(pg_temp.tap_as('ssr_app', 'DELETE FROM session_requests'), '42501', 'a direct DELETE is refused');
SELECT is(has_schema_privilege('ssr_app', 'ssr_private', 'USAGE'), FALSE, 'ssr_app has no USAGE on ssr_private');
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT ssr_private.validate_routing_choice(NULL, 'broadcast')$$), '42501',
    'the app cannot call a helper'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT ssr_private.routing_offer_score('broadcast', NULL, NULL, NULL, now())$$), '42501',
    'nor anything else in ssr_private'
);
SELECT is(pg_temp.tap_as('ssr_app', 'SELECT ssr_private.workshop_stats_rebuild()'), '42501', 'nor an owner-only API function');
SELECT is(pg_temp.tap_as('ssr_app', 'SELECT * FROM get_workshop_directory(5, 0)'), 'ok', 'the app calls the directory');
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT * FROM get_mechanics_for_routing(NULL, 'broadcast')$$), 'ok',
    'the app calls get_mechanics_for_routing unqualified (search_path default)'
);
SELECT is(
    pg_temp.tap_as('ssr_app', 'SELECT * FROM routing_outbox_replay(0)'), '42501',
    'the app cannot read the raw outbox (it reads routing_outbox_feed and get_mechanic_events)'
);
SELECT is(
    pg_temp.tap_as('ssr_app', 'SELECT * FROM routing_outbox_feed(0, ARRAY[''session_requests''])'), 'ok',
    'the app''s hub reads the outbox feed'
);
SELECT is(
    pg_temp.tap_as('analytics', 'SELECT * FROM workshop_session_analytics LIMIT 1'), 'ok',
    'role analytics reads workshop_session_analytics unqualified (its "$user" schema)'
);
SELECT is(
    pg_temp.tap_as('analytics', 'SELECT * FROM sessions LIMIT 1'), '42501', 'role analytics reads no base table'
);

SELECT is_empty(
    $$SELECT fn FROM tap_ours WHERE has_function_privilege('public', oid, 'EXECUTE')$$,
    'PUBLIC executes none of our functions'
);
SELECT is_empty(
    $$SELECT fn FROM tap_ours AS o WHERE o.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM ssr_private.api_functions() AS a
                        WHERE to_regprocedure('public.' || a.signature) = o.oid)$$,
    'every function in public is on the allowlist ssr_private.api_functions()'
);
SELECT set_eq(
    $$SELECT fn::text FROM tap_ours WHERE has_function_privilege('ssr_app', oid, 'EXECUTE')$$,
    $$SELECT to_regprocedure('public.' || a.signature)::text FROM ssr_private.api_functions() AS a
      WHERE 'ssr_app' = ANY (a.grantees) AND to_regprocedure('public.' || a.signature) IS NOT NULL$$,
    'ssr_app executes exactly the functions the allowlist grants it'
);
SELECT set_eq(
    $$SELECT fn::text FROM tap_ours WHERE has_function_privilege('mechanic', oid, 'EXECUTE')$$,
    $$SELECT to_regprocedure('public.' || a.signature)::text FROM ssr_private.api_functions() AS a
      WHERE 'mechanic' = ANY (a.grantees)
      UNION ALL SELECT 'ssr_private.current_mechanic_id()'
      UNION ALL SELECT 'ssr_private.routing_offered(session_requests,uuid,uuid,timestamp with time zone)'
      UNION ALL SELECT 'ssr_private.routing_offer_score(text,uuid,timestamp with time zone,uuid,timestamp with time zone)'
      UNION ALL SELECT 'ssr_private.hours_open_at(uuid,uuid,timestamp with time zone)'
      UNION ALL SELECT 'ssr_private.mechanic_skills(uuid)'
      UNION ALL SELECT 'ssr_private.offer_held_live(uuid,uuid,timestamp with time zone)'$$,
    'role mechanic executes its allowlisted functions, the identity and the offer rule of its row policy'
);
SELECT is_empty(
    $$SELECT fn FROM tap_ours WHERE has_function_privilege('analytics', oid, 'EXECUTE')
      AND fn::text NOT IN (
          'ssr_private.routing_event_narrative(text,uuid,uuid,text,text,jsonb)',
          'ssr_private.experiment_hist_percentile(double precision[],integer[],double precision)',
          'ssr_private.experiment_analyse_units(text,text,jsonb,double precision,double precision)',
          'ssr_private.experiment_stats(text,jsonb)'
      )$$,
    'role analytics executes none of our functions but the formatter of analytics.routing_explanations '
    'and the statistics of analytics.experiment_analysis'
);
SELECT is_empty(
    $$SELECT fn FROM tap_ours WHERE has_function_privilege('analytics', oid, 'EXECUTE')
      AND (prosecdef OR (SELECT p.provolatile FROM pg_proc AS p WHERE p.oid = tap_ours.oid) <> 'i')$$,
    'what analytics executes runs with its own rights and reads nothing (immutable)'
);
SELECT is_empty(
    $$SELECT fn FROM tap_ours
      WHERE prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) AS c WHERE c LIKE 'search_path=%')$$,
    'every SECURITY DEFINER function pins its search_path'
);
SELECT is_empty(
    $$SELECT fn FROM tap_ours AS o
      INNER JOIN pg_trigger AS t ON t.tgfoid = o.oid WHERE NOT t.tgisinternal AND o.nspname <> 'ssr_private'$$,
    'every trigger function lives in ssr_private'
);

-- One login per power: the payments login records payments and nothing else, the worker's
-- login runs the jobs and nothing else, the BI login reads and is read-only by default.
SELECT is(
    (
        SELECT bool_or(rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb) FROM pg_roles
        WHERE rolname IN ('ssr_payments', 'ssr_worker', 'ssr_bi')
    ), FALSE,
    'ssr_payments, ssr_worker and ssr_bi are no superusers and have no CREATEROLE, CREATEDB or BYPASSRLS'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT * FROM fulfill_checkout_purchase('cs_test_tap', NULL, 'paid', 2900, 'usd')$$),
    '42501', 'the app login cannot fulfil a purchase'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT * FROM handle_checkout_event('evt_tap', 'checkout.session.completed', FALSE)$$),
    '42501', 'nor handle a Stripe event'
);
SELECT set_eq(
    $$SELECT fn::text FROM tap_ours WHERE has_function_privilege('ssr_payments', oid, 'EXECUTE')$$,
    $$SELECT to_regprocedure('public.' || a.signature)::text FROM ssr_private.api_functions() AS a
      WHERE 'ssr_payments' = ANY (a.grantees)$$,
    'ssr_payments executes exactly the functions the allowlist grants it'
);
SELECT is_empty(
    $$SELECT a.signature FROM ssr_private.api_functions() AS a
      WHERE 'ssr_payments' = ANY (a.grantees) AND 'ssr_app' = ANY (a.grantees)$$,
    'no function is granted to both the app login and the payments login'
);
SELECT is(
    pg_temp.tap_as('ssr_payments', 'SELECT * FROM get_workshop_directory(5, 0)'), '42501',
    'the payments login calls no customer or mechanic endpoint'
);
SELECT set_eq(
    $$SELECT fn::text FROM tap_ours WHERE has_function_privilege('ssr_worker', oid, 'EXECUTE')$$,
    $$SELECT to_regprocedure('ssr_private.' || a.signature)::text FROM ssr_private.private_functions() AS a
      WHERE 'ssr_worker' = ANY (a.grantees)
      UNION ALL SELECT to_regprocedure('public.' || a.signature)::text FROM ssr_private.api_functions() AS a
      WHERE 'ssr_worker' = ANY (a.grantees)$$,
    'ssr_worker executes exactly the job functions of the allowlists'
);
SELECT is_empty(
    $$SELECT fn FROM tap_ours WHERE has_function_privilege('ssr_worker', oid, 'EXECUTE') AND nspname = 'ssr_private'
      AND NOT prosecdef$$,
    'every job function the worker executes is SECURITY DEFINER (the worker holds no table privilege)'
);
SELECT is(pg_temp.tap_as('ssr_worker', 'SELECT * FROM ssr_private.sweep_session_requests()'), 'ok', 'the worker sweeps');
SELECT is(pg_temp.tap_as('ssr_worker', 'SELECT email FROM customers'), '42501', 'the worker reads no e-mail');
SELECT is_empty(
    $$SELECT c.oid::regclass FROM pg_class AS c INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
      WHERE n.nspname IN ('public', 'ssr_private', 'analytics', 'ssr_meta') AND c.relkind IN ('r', 'p', 'v', 'm')
        AND NOT EXISTS (
            SELECT 1 FROM pg_depend AS d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
        )
        AND (has_table_privilege('ssr_worker', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
             OR has_table_privilege('ssr_payments', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
             OR has_table_privilege('analytics', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))$$,
    'ssr_worker and ssr_payments hold no table privilege, analytics (and ssr_bi) no write'
);
SELECT ok(pg_has_role('ssr_bi', 'analytics', 'MEMBER'), 'ssr_bi is a member of analytics');
SELECT ok(
    EXISTS (
        SELECT 1 FROM pg_db_role_setting AS s CROSS JOIN LATERAL unnest(s.setconfig) AS c (v)
        WHERE s.setrole = 'ssr_bi'::regrole AND s.setdatabase = 0 AND c.v = 'default_transaction_read_only=on'
    ),
    'ssr_bi sessions are read-only by default'
);
SELECT is_empty(
    $$SELECT * FROM ssr_private.bi_logins_not_read_only()$$,
    'no BI login of this cluster lacks the read-only default or writes through another role'
);

SELECT * FROM finish();
ROLLBACK;
