-- pgTAP: row-level security of session_requests for the role mechanic. The mechanic is the
-- verified identity (request.jwt.claims sub with role mechanic, as PostgREST sets it):
-- they see the pending requests offered to them now and those they accepted, nothing
-- without an identity, nothing from an app.mechanic_id they set themselves; no writes.
-- tap_seen(claims, app_mechanic) counts, as role mechanic, the rows of tap_req visible.
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

SELECT * FROM finish();
ROLLBACK;
