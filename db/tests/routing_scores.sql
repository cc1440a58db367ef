-- pgTAP: the routing scores of get_mechanics_for_routing (run by make installcheck / make test).
-- Inputs: a small marketplace made here (rolled back at the end). Checks, for workshop_only,
-- hybrid and broadcast: who is a candidate, with which priority_score and is_preferred,
-- in which order; unavailable mechanics and those of a suspended workshop never are.
BEGIN;
SELECT no_plan();

INSERT INTO organizations (id, name, contact_email, status) VALUES
('a0000000-0000-4000-8000-000000000001', 'Alpha', 'a@alpha.example', 'active'),
('a0000000-0000-4000-8000-000000000002', 'Beta', 'b@beta.example', 'active'),
('a0000000-0000-4000-8000-000000000003', 'Gamma', 'g@gamma.example', 'suspended');
INSERT INTO mechanics (id, workshop_id, name, email, is_available, rating) VALUES
('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'A1', 'a1@m.example', TRUE, 4.9),
('b0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001', 'A2', 'a2@m.example', TRUE, 4.5),
('b0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002', 'B1', 'b1@m.example', TRUE, 4.0),
('b0000000-0000-4000-8000-000000000004', NULL, 'I1', 'i1@m.example', TRUE, 4.2),
('b0000000-0000-4000-8000-000000000005', 'a0000000-0000-4000-8000-000000000003', 'S1', 's1@m.example', TRUE, 5.0),
('b0000000-0000-4000-8000-000000000006', 'a0000000-0000-4000-8000-000000000001', 'U1', 'u1@m.example', FALSE, 5.0);
-- Only these mechanics count (the database may hold others, e.g. demo data).
CREATE TEMP TABLE tap_ours ON COMMIT DROP AS
SELECT m.id FROM mechanics AS m WHERE m.email LIKE '%@m.example';

SELECT results_eq(
    $$SELECT r.mechanic_id, r.priority_score, r.is_preferred
      FROM get_mechanics_for_routing('a0000000-0000-4000-8000-000000000001', 'workshop_only') AS r
      WHERE r.mechanic_id IN (SELECT id FROM tap_ours)$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000001'::uuid, 100, TRUE),
             ('b0000000-0000-4000-8000-000000000002'::uuid, 100, TRUE)$$,
    'workshop_only: that workshop''s available mechanics only, 100, best rating first'
);

SELECT results_eq(
    $$SELECT r.mechanic_id, r.priority_score, r.is_preferred
      FROM get_mechanics_for_routing('a0000000-0000-4000-8000-000000000001', 'hybrid') AS r
      WHERE r.mechanic_id IN (SELECT id FROM tap_ours)$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000001'::uuid, 100, TRUE),
             ('b0000000-0000-4000-8000-000000000002'::uuid, 100, TRUE),
             ('b0000000-0000-4000-8000-000000000003'::uuid, 50, FALSE),
             ('b0000000-0000-4000-8000-000000000004'::uuid, 25, FALSE)$$,
    'hybrid: preferred workshop 100, other workshops 50, independents 25'
);

SELECT results_eq(
    $$SELECT r.mechanic_id, r.priority_score, r.is_preferred
      FROM get_mechanics_for_routing(NULL, 'broadcast') AS r
      WHERE r.mechanic_id IN (SELECT id FROM tap_ours)$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000001'::uuid, 50, FALSE),
             ('b0000000-0000-4000-8000-000000000002'::uuid, 50, FALSE),
             ('b0000000-0000-4000-8000-000000000004'::uuid, 50, FALSE),
             ('b0000000-0000-4000-8000-000000000003'::uuid, 50, FALSE)$$,
    'broadcast: everyone eligible 50, by rating'
);

SELECT is(
    (
        SELECT count(*)::integer
        FROM get_mechanics_for_routing('a0000000-0000-4000-8000-000000000002', 'broadcast') AS r
        WHERE r.is_preferred AND r.mechanic_id IN (SELECT o.id FROM tap_ours AS o)
    ),
    1,
    'broadcast with a workshop only marks its mechanics is_preferred'
);

SELECT is_empty(
    $$SELECT 1 FROM get_mechanics_for_routing(NULL, 'broadcast') AS r
      WHERE r.mechanic_id IN ('b0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000006')$$,
    'a suspended workshop''s mechanic and an unavailable one are never candidates'
);

SELECT is(
    ssr_private.routing_offer_score(
        'hybrid', 'a0000000-0000-4000-8000-000000000001', now() + interval '1 minute',
        'a0000000-0000-4000-8000-000000000002', now()
    ),
    NULL,
    'hybrid: other workshops are not offered the request inside the window'
);

SELECT * FROM finish();
ROLLBACK;
