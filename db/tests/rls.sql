-- pgTAP: row-level security of session_requests for the role mechanic. The mechanic is the
-- verified identity (request.jwt.claims sub with role mechanic, as PostgREST sets it):
-- they see the pending requests offered to them now and those they accepted, nothing
-- without an identity, nothing from an app.mechanic_id they set themselves; no writes.
-- tap_seen(claims, app_mechanic) counts, as role mechanic, the rows of tap_req visible.
-- Then default deny: a role granted SELECT without a policy sees nothing (mechanics,
-- organizations, plans, session_requests), a mechanic only their own rows.
BEGIN;
SELECT no_plan();

INSERT INTO organizations (id, name, contact_email, status) VALUES
('a0000000-0000-4000-8000-000000000001', 'Alpha', 'a@alpha.example', 'active'),
('a0000000-0000-4000-8000-000000000002', 'Beta', 'b@beta.example', 'active');
INSERT INTO mechanics (id, workshop_id, name, email, is_available) VALUES
('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'A1', 'a1@m.example', TRUE),
('b0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002', 'B1', 'b1@m.example', TRUE),
('b0000000-0000-4000-8000-000000000004', NULL, 'I1', 'i1@m.example', TRUE);
INSERT INTO customers (id, email) VALUES ('c0000000-0000-4000-8000-000000000001', 'c1@c.example');
INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES ('tap15', 'Tap', 100, 'usd', 15);
CREATE TEMP TABLE tap_req ON COMMIT DROP AS
SELECT
    v.k,
    (ssr_private.create_session_request('c0000000-0000-4000-8000-000000000001', 'tap15', NULL, NULL, v.workshop, v.routing)).id
        AS id
FROM (
    VALUES
    ('wo', 'a0000000-0000-4000-8000-000000000001'::uuid, 'workshop_only'),
    ('bc', NULL::uuid, 'broadcast')
) AS v (k, workshop, routing);
GRANT SELECT ON tap_req TO mechanic;

CREATE FUNCTION pg_temp.tap_seen(p_claims text, p_app text DEFAULT NULL)
RETURNS text[]
LANGUAGE plpgsql
AS $$
DECLARE
    v_seen text [];
BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(p_claims, ''), TRUE);
    PERFORM set_config('app.mechanic_id', coalesce(p_app, ''), TRUE);
    SET LOCAL ROLE mechanic;
    SELECT coalesce(array_agg(t.k ORDER BY t.k), '{}') INTO v_seen
    FROM session_requests AS r INNER JOIN tap_req AS t ON r.id = t.id;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', TRUE);
    PERFORM set_config('app.mechanic_id', '', TRUE);
    RETURN v_seen;
END
$$;

SELECT is(
    pg_temp.tap_seen('{"sub": "b0000000-0000-4000-8000-000000000001", "role": "mechanic"}'), ARRAY['bc', 'wo'],
    'a mechanic of the workshop sees its workshop_only request and the broadcast one'
);
SELECT is(
    pg_temp.tap_seen('{"sub": "b0000000-0000-4000-8000-000000000003", "role": "mechanic"}'), ARRAY['bc'],
    'another workshop''s mechanic sees only the broadcast request'
);
SELECT is(pg_temp.tap_seen(NULL), '{}'::text[], 'no identity: nothing');
SELECT is(
    pg_temp.tap_seen(NULL, 'b0000000-0000-4000-8000-000000000001'), '{}'::text[],
    'app.mechanic_id set by the mechanic session itself: nothing'
);
SELECT is(
    pg_temp.tap_seen('{"sub": "b0000000-0000-4000-8000-000000000001", "role": "customer"}'), '{}'::text[],
    'claims whose role is not mechanic: nothing'
);
SELECT is(
    pg_temp.tap_seen('{"mechanic_id": "b0000000-0000-4000-8000-000000000001", "role": "mechanic"}'), '{}'::text[],
    'a mechanic_id claim is not an identity (only sub is)'
);

SELECT is(
    has_table_privilege('mechanic', 'session_requests', 'UPDATE, INSERT, DELETE'), FALSE,
    'role mechanic has no write privilege on session_requests'
);
SELECT is(
    (SELECT count(*)::integer FROM session_requests AS r INNER JOIN tap_req AS t ON r.id = t.id),
    2, 'the owner is not narrowed by the mechanic policy'
);

-- Default deny: every table some role other than the owner may read has row-level security,
-- and no policy applies to PUBLIC (each names its roles).
SELECT is_empty(
    $$SELECT c.oid::regclass FROM pg_class AS c INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
      CROSS JOIN pg_roles AS r
      WHERE n.nspname IN ('public', 'ssr_private', 'ssr_meta') AND c.relkind IN ('r', 'p')
        AND r.rolname IN ('ssr_app', 'ssr_payments', 'ssr_worker', 'ssr_bi', 'mechanic', 'customer', 'analytics')
        AND has_table_privilege(r.oid, c.oid, 'SELECT') AND NOT c.relrowsecurity$$,
    'every table a role of the package may SELECT has row-level security'
);
SELECT is_empty(
    $$SELECT polname FROM pg_policy WHERE 0 = ANY (polroles)$$,
    'no policy applies to PUBLIC'
);
SELECT is(
    (SELECT count(*)::integer FROM pg_class WHERE relforcerowsecurity AND relnamespace = 'public'::regnamespace), 0,
    'no FORCE ROW LEVEL SECURITY: the owner''s functions and views see every row'
);
CREATE FUNCTION pg_temp.tap_count(p_role text, p_table text, p_claims text DEFAULT '')
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_n integer;
BEGIN
    PERFORM set_config('request.jwt.claims', p_claims, TRUE);
    EXECUTE format('SET LOCAL ROLE %I', p_role);
    EXECUTE format('SELECT count(*) FROM %s', p_table) INTO v_n;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', TRUE);
    RETURN v_n;
END
$$;
GRANT SELECT ON session_requests, mechanics, organizations, plans TO customer;
SELECT is(pg_temp.tap_count('customer', 'session_requests'), 0, 'a role granted SELECT on session_requests sees nothing');
SELECT is(pg_temp.tap_count('customer', 'mechanics'), 0, 'nor on mechanics');
SELECT is(pg_temp.tap_count('customer', 'organizations'), 0, 'nor on organizations');
SELECT is(pg_temp.tap_count('customer', 'plans'), 0, 'nor on plans');
SELECT is(
    pg_temp.tap_count('mechanic', 'mechanics', '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "mechanic"}'), 1,
    'a mechanic sees their own mechanic row only'
);
SELECT is(
    pg_temp.tap_count('mechanic', 'organizations', '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "mechanic"}'),
    1, 'and their own workshop only'
);
SELECT is(
    pg_temp.tap_count('mechanic', 'organizations', '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "mechanic"}'),
    0, 'an independent mechanic sees no workshop'
);
SELECT is(pg_temp.tap_count('mechanic', 'mechanics'), 0, 'no identity: no mechanic row');
SELECT ok(pg_temp.tap_count('ssr_app', 'plans') > 0, 'the app login reads the price list');

SELECT * FROM finish();
ROLLBACK;
