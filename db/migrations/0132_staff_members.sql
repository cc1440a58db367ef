-- 0132: the marketplace's staff, granted in the database. A staff member signs in to the app
-- with a token whose role is staff; the database acts for them only if they are listed here and
-- active (ssr_private.assert_staff), at the level their job needs:
--   support  reads the marketplace's state (requests, refunds, checkouts, workshops, mechanics)
--            and takes the actions support must take (retry a refund, resolve a checkout);
--   admin    also runs routing experiments and changes routing policies.
-- Every staff action is recorded in ssr_private.staff_actions (append-only, owner only).
-- Online: new tables.

CREATE TABLE IF NOT EXISTS staff_members (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    name text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    staff_role text NOT NULL DEFAULT 'support' CHECK (staff_role IN ('support', 'admin')),
    is_active boolean NOT NULL DEFAULT TRUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE staff_members IS
'The marketplace''s staff: who may use the staff pages, and at which level (support, admin).';
COMMENT ON COLUMN staff_members.id IS 'The staff member''s id: the sub of their token.';
COMMENT ON COLUMN staff_members.email IS 'Work email, unique.';
COMMENT ON COLUMN staff_members.name IS 'Name shown in the pages and in the audit.';
COMMENT ON COLUMN staff_members.staff_role IS
'support: read the marketplace, retry refunds, resolve checkouts; admin: also routing experiments and policies.';
COMMENT ON COLUMN staff_members.is_active IS 'FALSE: refused everywhere (someone who left), kept for the audit.';
COMMENT ON COLUMN staff_members.created_at IS 'When they were added.';

CREATE TABLE IF NOT EXISTS ssr_private.staff_actions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id uuid NOT NULL REFERENCES staff_members (id),
    action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{0,62}$'),
    subject text,
    details jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    acted_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE ssr_private.staff_actions IS
'Every action a staff member took (append-only): who, what, on which subject, with which details, when.';
COMMENT ON COLUMN ssr_private.staff_actions.staff_id IS 'Who acted.';
COMMENT ON COLUMN ssr_private.staff_actions.action IS 'What they did, e.g. refund.retry, checkout.resolve, experiment.start.';
COMMENT ON COLUMN ssr_private.staff_actions.subject IS 'The id of what they acted on (a refund, a Checkout Session, an experiment).';
COMMENT ON COLUMN ssr_private.staff_actions.details IS 'The action''s inputs and result.';
COMMENT ON COLUMN ssr_private.staff_actions.acted_at IS 'When.';

CREATE INDEX IF NOT EXISTS staff_actions_staff_id_idx ON ssr_private.staff_actions (staff_id, acted_at);

REVOKE ALL ON staff_members, ssr_private.staff_actions FROM PUBLIC;
