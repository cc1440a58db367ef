-- Demo data for `make run`: deterministic ids, safe to load twice.
-- Workshops: two healthy ones, one with nobody available, one suspended, one pending.

INSERT INTO organizations (id, name, contact_email, status, created_at) VALUES
('11111111-1111-4111-8111-000000000001', 'AutoPro Mechanics', 'contact@autopro.example', 'active', '2026-01-20'),
('11111111-1111-4111-8111-000000000002', 'City Auto', 'hello@cityauto.example', 'active', '2026-02-03'),
('11111111-1111-4111-8111-000000000003', 'Night Owl Garage', 'owls@nightowl.example', 'active', '2026-03-11'),
('11111111-1111-4111-8111-000000000004', 'Shady Motors', 'boss@shady.example', 'suspended', '2026-01-05'),
('11111111-1111-4111-8111-000000000005', 'Fresh Start Garage', 'new@freshstart.example', 'pending', '2026-11-01')
ON CONFLICT (id) DO NOTHING;

INSERT INTO mechanics (id, workshop_id, name, email, is_available, rating) VALUES
(
    '22222222-2222-4222-8222-000000000001', '11111111-1111-4111-8111-000000000001',
    'Ana Torres', 'ana@autopro.example', TRUE, 4.9
),
(
    '22222222-2222-4222-8222-000000000002', '11111111-1111-4111-8111-000000000001',
    'Ben Okafor', 'ben@autopro.example', TRUE, 4.7
),
(
    '22222222-2222-4222-8222-000000000003', '11111111-1111-4111-8111-000000000001',
    'Chloe Martin', 'chloe@autopro.example', FALSE, 4.8
),
(
    '22222222-2222-4222-8222-000000000004', '11111111-1111-4111-8111-000000000002',
    'Dev Patel', 'dev@cityauto.example', TRUE, 4.5
),
(
    '22222222-2222-4222-8222-000000000005', '11111111-1111-4111-8111-000000000002',
    'Eva Novak', 'eva@cityauto.example', FALSE, 4.6
),
(
    '22222222-2222-4222-8222-000000000006', '11111111-1111-4111-8111-000000000003',
    'Finn Walsh', 'finn@nightowl.example', FALSE, 4.2
),
(
    '22222222-2222-4222-8222-000000000007', '11111111-1111-4111-8111-000000000004',
    'Gus Shady', 'gus@shady.example', TRUE, 3.1
),
('22222222-2222-4222-8222-000000000008', NULL, 'Hana Ito', 'hana@independent.example', TRUE, 4.9),
('22222222-2222-4222-8222-000000000009', NULL, 'Ivan Petrov', 'ivan@independent.example', TRUE, 4.4),
('22222222-2222-4222-8222-000000000010', NULL, 'Jude Kim', 'jude@independent.example', FALSE, 4.0)
ON CONFLICT (id) DO NOTHING;

INSERT INTO customers (id, email, name) VALUES
('33333333-3333-4333-8333-000000000001', 'alice@customer.example', 'Alice'),
('33333333-3333-4333-8333-000000000002', 'bob@customer.example', 'Bob'),
('33333333-3333-4333-8333-000000000003', 'carol@customer.example', 'Carol'),
('33333333-3333-4333-8333-000000000004', 'dan@customer.example', 'Dan')
ON CONFLICT (id) DO NOTHING;

INSERT INTO plans (code, name, session_type, price_minor, currency, duration_minutes) VALUES
('video15', '15-minute video session', 'video', 2900, 'usd', 15),
('video30', '30-minute video session', 'video', 4900, 'usd', 30),
('diag45', '45-minute diagnostic session', 'diagnostic', 6900, 'usd', 45)
ON CONFLICT (code) DO NOTHING;

-- Sixty past sessions over the last sixty days, each accepted and reviewed.
-- Mechanic i mod 8 (the suspended workshop's mechanic served some before it was suspended).
WITH
served AS (
    SELECT
        i,
        md5('demo-session-' || i)::uuid AS session_id,
        md5('demo-request-' || i)::uuid AS request_id,
        ('33333333-3333-4333-8333-00000000000' || (1 + i % 4))::uuid AS customer_id,
        ('22222222-2222-4222-8222-0000000000' || lpad((1 + i % 9)::text, 2, '0'))::uuid AS mechanic_id,
        (ARRAY['video15', 'video30', 'diag45'])[1 + i % 3] AS plan_code,
        (ARRAY['broadcast', 'hybrid', 'workshop_only'])[1 + i % 3] AS routing_type,
        timestamptz '2026-09-25 09:00+00' + make_interval(days => i, hours => i % 10) AS created_at
    FROM generate_series(1, 60) AS i
),

enriched AS (
    SELECT
        s.*,
        p.price_minor,
        p.currency,
        m.workshop_id,
        CASE
            WHEN s.routing_type = 'broadcast' THEN NULL
            ELSE coalesce(m.workshop_id, '11111111-1111-4111-8111-000000000001'::uuid)
        END AS preferred_workshop_id,
        s.created_at + make_interval(secs => 20 + (s.i * 37) % 400) AS accepted_at
    FROM served AS s
    INNER JOIN plans AS p ON s.plan_code = p.code
    INNER JOIN mechanics AS m ON s.mechanic_id = m.id
),

ins_sessions AS (
    INSERT INTO sessions (
        id, customer_id, mechanic_id, plan_code, stripe_checkout_session_id, amount_total_minor,
        currency, status, created_at, started_at, ended_at, workshop_id, preferred_workshop_id
    )
    SELECT
        session_id,
        customer_id,
        mechanic_id,
        plan_code,
        'cs_test_demo' || i AS stripe_checkout_session_id,
        price_minor,
        currency,
        'completed' AS status,
        created_at,
        accepted_at,
        accepted_at + interval '15 minutes' AS ended_at,
        workshop_id,
        preferred_workshop_id
    FROM enriched
    ON CONFLICT (id) DO NOTHING
    RETURNING id
),

ins_requests AS (
    INSERT INTO session_requests (
        id, session_id, customer_id, plan_code, status, mechanic_id, created_at, accepted_at,
        workshop_id, preferred_workshop_id, routing_type
    )
    SELECT
        e.request_id,
        e.session_id,
        e.customer_id,
        e.plan_code,
        'accepted' AS status,
        e.mechanic_id,
        e.created_at,
        e.accepted_at,
        e.workshop_id,
        e.preferred_workshop_id,
        e.routing_type
    FROM enriched AS e
    INNER JOIN ins_sessions AS s ON e.session_id = s.id
    RETURNING id
)

INSERT INTO reviews (session_id, customer_id, mechanic_id, rating, comment, created_at)
SELECT
    e.session_id,
    e.customer_id,
    e.mechanic_id,
    (ARRAY[5, 5, 4, 5, 3, 4, 5])[1 + e.i % 7] AS rating,
    'Demo review ' || e.i AS comment,
    e.accepted_at + interval '1 hour' AS created_at
FROM enriched AS e
INNER JOIN ins_sessions AS s ON e.session_id = s.id
WHERE (SELECT count(*) FROM ins_requests) >= 0;
