-- pgTAP: the accept rules and the fail-closed identity of accept_session_request.
-- Inputs: a small marketplace and three requests made here (rolled back at the end).
-- tap_as(role, sql, claims, app_mechanic) runs sql after SET LOCAL ROLE role with
-- request.jwt.claims and app.mechanic_id set for the transaction, and returns
-- 'ok' or 'SQLSTATE column'.
BEGIN;
SELECT no_plan();

CREATE FUNCTION pg_temp.tap_as(p_role text, p_sql text, p_claims text DEFAULT NULL, p_app text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_state text;
    v_column text;
BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(p_claims, ''), TRUE);
    PERFORM set_config('app.mechanic_id', coalesce(p_app, ''), TRUE);
    EXECUTE format('SET LOCAL ROLE %I', p_role);
    BEGIN
        EXECUTE p_sql;
        v_state := 'ok';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_column = COLUMN_NAME;
        v_state := v_state || coalesce(' ' || nullif(v_column, ''), '');
    END;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', TRUE);
    PERFORM set_config('app.mechanic_id', '', TRUE);
    RETURN v_state;
END
$$;

INSERT INTO organizations (id, name, contact_email, status) VALUES
('a0000000-0000-4000-8000-000000000001', 'Alpha', 'a@alpha.example', 'active'),
('a0000000-0000-4000-8000-000000000002', 'Beta', 'b@beta.example', 'active');
INSERT INTO mechanics (id, workshop_id, name, email, is_available) VALUES
('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'A1', 'a1@m.example', TRUE),
('b0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001', 'A2', 'a2@m.example', TRUE),
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
    ('hy', 'a0000000-0000-4000-8000-000000000001'::uuid, 'hybrid'),
    ('bc', NULL::uuid, 'broadcast')
) AS v (k, workshop, routing);
GRANT SELECT ON tap_req TO ssr_app, mechanic;

SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'wo'),
        'b0000000-0000-4000-8000-000000000003')$$),
    'SR403 mechanic_id', 'the app without app.mechanic_id: refused (fail-closed)'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'wo'),
        'b0000000-0000-4000-8000-000000000003')$$, NULL, 'b0000000-0000-4000-8000-000000000001'),
    'SR403 mechanic_id', 'the app acting for another mechanic: refused'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'wo'),
        'b0000000-0000-4000-8000-000000000003')$$, NULL, 'b0000000-0000-4000-8000-000000000003'),
    'SR403 mechanic_id', 'workshop_only: another workshop''s mechanic may never accept'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'wo'),
        'b0000000-0000-4000-8000-000000000001')$$, NULL, 'b0000000-0000-4000-8000-000000000001'),
    'ok', 'workshop_only: its workshop''s mechanic accepts through the app'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'wo'),
        'b0000000-0000-4000-8000-000000000002')$$, NULL, 'b0000000-0000-4000-8000-000000000002'),
    'SR409 request_id', 'taken: the second mechanic gets SR409'
);
SELECT is(
    (SELECT r.workshop_id FROM session_requests AS r WHERE r.id = (SELECT t.id FROM tap_req AS t WHERE t.k = 'wo')),
    'a0000000-0000-4000-8000-000000000001'::uuid, 'the serving workshop is filled from the accepting mechanic'
);
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'hy'),
        'b0000000-0000-4000-8000-000000000003')$$, NULL, 'b0000000-0000-4000-8000-000000000003'),
    'SR403 mechanic_id', 'hybrid: an outsider inside the exclusive window is refused'
);
SELECT is(
    pg_temp.tap_as('mechanic', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'bc'),
        'b0000000-0000-4000-8000-000000000004')$$, NULL, 'b0000000-0000-4000-8000-000000000004'),
    'SR403 mechanic_id', 'role mechanic: app.mechanic_id set by the session itself gains nothing'
);
SELECT is(
    pg_temp.tap_as('mechanic', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'bc'),
        'b0000000-0000-4000-8000-000000000001')$$, '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "mechanic"}'),
    'SR403 mechanic_id', 'role mechanic: cannot accept for another mechanic than the JWT sub'
);
SELECT is(
    pg_temp.tap_as('mechanic', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'bc'),
        'b0000000-0000-4000-8000-000000000004')$$, '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "customer"}'),
    'SR403 mechanic_id', 'role mechanic: claims whose role is not mechanic are no identity'
);
SELECT is(
    pg_temp.tap_as('mechanic', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'bc'),
        'b0000000-0000-4000-8000-000000000004')$$, '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "mechanic"}'),
    'ok', 'role mechanic: accepts for the JWT sub (PostgREST''s request.jwt.claims)'
);
UPDATE session_requests SET exclusive_until = now() - interval '1 second'
WHERE id = (SELECT id FROM tap_req WHERE k = 'hy');
SELECT is(
    pg_temp.tap_as('ssr_app', $$SELECT accept_session_request((SELECT id FROM tap_req WHERE k = 'hy'),
        'b0000000-0000-4000-8000-000000000003')$$, NULL, 'b0000000-0000-4000-8000-000000000003'),
    'ok', 'hybrid: after the window another workshop''s mechanic accepts'
);
SELECT results_eq(
    $$SELECT k, status, mechanic_id, workshop_id FROM session_requests JOIN tap_req USING (id) ORDER BY k$$,
    $$VALUES ('bc', 'accepted', 'b0000000-0000-4000-8000-000000000004'::uuid, NULL::uuid),
             ('hy', 'accepted', 'b0000000-0000-4000-8000-000000000003'::uuid, 'a0000000-0000-4000-8000-000000000002'::uuid),
             ('wo', 'accepted', 'b0000000-0000-4000-8000-000000000001'::uuid, 'a0000000-0000-4000-8000-000000000001'::uuid)$$,
    'one winner each, with the serving workshop (NULL for an independent)'
);

SELECT * FROM finish();
ROLLBACK;
