-- ssr_private.api_functions: THE allowlist of the functions in schema public, in one place,
-- with the roles that may execute each (none: the owner only). Every function in public
-- must be listed (tests/test_privileges.py and db/tests/grants.sql fail otherwise);
-- ssr_private.apply_privileges() grants exactly this and nothing else, at the end of
-- every migration run. Functions a role may call that write or read tables are SECURITY
-- DEFINER with a pinned search_path; the roles get no table writes.
--   ssr_app   the app's login (make run, tests): the calls of the HTTP endpoints, plus the
--             documented read-only routing and notification calls;
--   mechanic  PostgREST-style mechanics: their offers and accept (identity from the JWT).
    ('routing_outbox_relay(integer)', ARRAY[]::text [], 'owner: the worker sends committed notifications'),
    ('decline_session_request(uuid,uuid,text)', ARRAY['ssr_app', 'mechanic'], 'a mechanic declines a request'),
    ('start_session(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'the accepting mechanic starts the session'),
    ('complete_session(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'the accepting mechanic completes the session'),
    ('mark_session_no_show(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'the accepting mechanic marks a no-show'),
    ('review_session(uuid,uuid,integer,text)', ARRAY['ssr_app'], 'the customer reviews a completed session')
) AS t (signature, grantees, purpose)
$$;

COMMENT ON FUNCTION ssr_private.api_functions() IS
'Allowlist of the functions in schema public and the roles that may execute each (empty: owner only).';
