-- Demo staff: Sam (admin: support pages, experiments, policies) and Sue (support).
-- Idempotent.
INSERT INTO staff_members (id, email, name, staff_role) VALUES
('44444444-4444-4444-8444-000000000001', 'sam@staff.example', 'Sam Rivera', 'admin'),
('44444444-4444-4444-8444-000000000002', 'sue@staff.example', 'Sue Park', 'support')
ON CONFLICT (id) DO NOTHING;
