-- 0001: the marketplace before smart routing.
-- Workshops (organizations), mechanics, customers, plans, intakes,
-- session requests, sessions and reviews.

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (btrim(name) <> ''),
    contact_email text NOT NULL CHECK (contact_email ~ '^[^@\s]+@[^@\s]+$'),
    status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('active', 'pending', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE organizations IS
'Workshops: organizations that employ mechanics. Only active ones are offered to customers.';
COMMENT ON COLUMN organizations.id IS 'Workshop id (UUID).';
COMMENT ON COLUMN organizations.name IS 'Display name shown in the workshop directory.';
COMMENT ON COLUMN organizations.contact_email IS 'Contact e-mail of the workshop.';
COMMENT ON COLUMN organizations.status IS
'active: listed and routable; pending: onboarding, not routable; suspended: not routable.';
COMMENT ON COLUMN organizations.created_at IS 'When the workshop was created.';
COMMENT ON COLUMN organizations.updated_at IS 'When the row last changed.';

CREATE TABLE mechanics (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    name text NOT NULL CHECK (btrim(name) <> ''),
    email text NOT NULL UNIQUE CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended')),
    is_available boolean NOT NULL DEFAULT FALSE,
    last_seen_at timestamptz,
    rating numeric(3, 2) CHECK (rating BETWEEN 0 AND 5),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mechanics_workshop_id_idx ON mechanics (workshop_id);
CREATE INDEX mechanics_available_idx ON mechanics (workshop_id)
WHERE is_available AND status = 'active';
COMMENT ON TABLE mechanics IS
'Mechanics. workshop_id links one to at most one workshop; NULL means independent.';
COMMENT ON COLUMN mechanics.id IS 'Mechanic id (UUID).';
COMMENT ON COLUMN mechanics.workshop_id IS 'The workshop the mechanic works for; NULL for independents.';
COMMENT ON COLUMN mechanics.name IS 'Display name.';
COMMENT ON COLUMN mechanics.email IS 'Login e-mail, unique.';
COMMENT ON COLUMN mechanics.status IS 'active or suspended (a suspended mechanic is never routed to).';
COMMENT ON COLUMN mechanics.is_available IS 'Presence: true while the mechanic is online and ready for a session.';
COMMENT ON COLUMN mechanics.last_seen_at IS 'Last presence heartbeat.';
COMMENT ON COLUMN mechanics.rating IS 'Cached average review rating (0-5), informational.';
COMMENT ON COLUMN mechanics.created_at IS 'When the mechanic signed up.';

CREATE TABLE customers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    name text,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE customers IS 'Customers who buy video sessions.';
COMMENT ON COLUMN customers.id IS 'Customer id (UUID); the `sub` of their bearer token.';
COMMENT ON COLUMN customers.email IS 'Login e-mail, unique.';
COMMENT ON COLUMN customers.name IS 'Display name, optional.';
COMMENT ON COLUMN customers.created_at IS 'When the customer signed up.';

CREATE TABLE plans (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{2,40}$'),
    name text NOT NULL CHECK (btrim(name) <> ''),
    session_type text NOT NULL DEFAULT 'video'
    CHECK (session_type IN ('chat', 'video', 'diagnostic')),
    price_minor integer NOT NULL CHECK (price_minor > 0),
    currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 480),
    is_active boolean NOT NULL DEFAULT TRUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plans IS 'What a customer can buy. Prices come from here, never from the client.';
COMMENT ON COLUMN plans.code IS 'Plan code, e.g. video15.';
COMMENT ON COLUMN plans.name IS 'Display name.';
COMMENT ON COLUMN plans.session_type IS 'chat, video or diagnostic.';
COMMENT ON COLUMN plans.price_minor IS 'Price in the currency''s minor unit (cents).';
COMMENT ON COLUMN plans.currency IS 'ISO 4217 currency code, lower case as Stripe writes it.';
COMMENT ON COLUMN plans.duration_minutes IS 'Length of the session in minutes.';
COMMENT ON COLUMN plans.is_active IS 'Only active plans can be bought.';
COMMENT ON COLUMN plans.created_at IS 'When the plan was created.';

CREATE TABLE intakes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    vehicle_make text,
    vehicle_model text,
    vehicle_year integer CHECK (vehicle_year BETWEEN 1900 AND 2100),
    description text NOT NULL CHECK (btrim(description) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX intakes_customer_id_idx ON intakes (customer_id);
COMMENT ON TABLE intakes IS 'What the customer describes before a session (vehicle and problem).';
COMMENT ON COLUMN intakes.id IS 'Intake id (UUID).';
COMMENT ON COLUMN intakes.customer_id IS 'The customer who wrote it.';
COMMENT ON COLUMN intakes.vehicle_make IS 'Vehicle make, e.g. Toyota.';
COMMENT ON COLUMN intakes.vehicle_model IS 'Vehicle model, e.g. Corolla.';
COMMENT ON COLUMN intakes.vehicle_year IS 'Model year.';
COMMENT ON COLUMN intakes.description IS 'The problem, in the customer''s words.';
COMMENT ON COLUMN intakes.created_at IS 'When the intake was written.';

CREATE TABLE sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    mechanic_id uuid REFERENCES mechanics (id) ON DELETE RESTRICT,
    plan_code text NOT NULL REFERENCES plans (code) ON DELETE RESTRICT,
    intake_id uuid REFERENCES intakes (id) ON DELETE SET NULL,
    stripe_checkout_session_id text UNIQUE
    CHECK (stripe_checkout_session_id ~ '^cs_[A-Za-z0-9_]+$'),
    amount_total_minor integer NOT NULL CHECK (amount_total_minor >= 0),
    currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    status text NOT NULL DEFAULT 'waiting'
    CHECK (status IN ('waiting', 'live', 'completed', 'cancelled', 'refunded')),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    ended_at timestamptz,
    CHECK (ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at),
    CHECK (status NOT IN ('live', 'completed') OR mechanic_id IS NOT NULL)
);
CREATE INDEX sessions_customer_id_idx ON sessions (customer_id);
CREATE INDEX sessions_mechanic_id_idx ON sessions (mechanic_id);
CREATE INDEX sessions_created_at_idx ON sessions (created_at);
COMMENT ON TABLE sessions IS 'A paid video session between a customer and (once accepted) a mechanic.';
COMMENT ON COLUMN sessions.id IS 'Session id (UUID).';
COMMENT ON COLUMN sessions.customer_id IS 'The paying customer.';
COMMENT ON COLUMN sessions.mechanic_id IS 'The mechanic who accepted; NULL while waiting.';
COMMENT ON COLUMN sessions.plan_code IS 'The plan bought.';
COMMENT ON COLUMN sessions.intake_id IS 'The intake describing the problem, if any.';
COMMENT ON COLUMN sessions.stripe_checkout_session_id IS
'Stripe Checkout Session id (cs_...); unique, so a purchase is fulfilled once.';
COMMENT ON COLUMN sessions.amount_total_minor IS 'Amount paid, in minor units, as Stripe reported it.';
COMMENT ON COLUMN sessions.currency IS 'Currency paid, lower-case ISO 4217.';
COMMENT ON COLUMN sessions.status IS 'waiting (for a mechanic), live, completed, cancelled, refunded.';
COMMENT ON COLUMN sessions.created_at IS 'When the session was created (payment fulfilled).';
COMMENT ON COLUMN sessions.started_at IS 'When the call started.';
COMMENT ON COLUMN sessions.ended_at IS 'When the call ended.';

CREATE TABLE session_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    plan_code text NOT NULL REFERENCES plans (code) ON DELETE RESTRICT,
    status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'accepted', 'expired', 'cancelled')),
    mechanic_id uuid REFERENCES mechanics (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    closed_at timestamptz,
    CHECK ((status = 'accepted') = (mechanic_id IS NOT NULL)),
    CHECK ((status = 'accepted') = (accepted_at IS NOT NULL)),
    CHECK (accepted_at IS NULL OR accepted_at >= created_at)
);
CREATE INDEX session_requests_customer_id_idx ON session_requests (customer_id);
CREATE INDEX session_requests_mechanic_id_idx ON session_requests (mechanic_id);
CREATE INDEX session_requests_pending_idx ON session_requests (created_at)
WHERE status = 'pending';
COMMENT ON TABLE session_requests IS
'A request for a mechanic to take a paid session; the first eligible mechanic to accept wins.';
COMMENT ON COLUMN session_requests.id IS 'Request id (UUID).';
COMMENT ON COLUMN session_requests.session_id IS 'The session this request staffs (one request per session).';
COMMENT ON COLUMN session_requests.customer_id IS 'The customer waiting.';
COMMENT ON COLUMN session_requests.plan_code IS 'The plan bought.';
COMMENT ON COLUMN session_requests.status IS 'pending, accepted, expired (nobody took it in time) or cancelled.';
COMMENT ON COLUMN session_requests.mechanic_id IS 'The mechanic who accepted; set exactly once.';
COMMENT ON COLUMN session_requests.created_at IS 'When the request was created.';
COMMENT ON COLUMN session_requests.accepted_at IS 'When it was accepted.';
COMMENT ON COLUMN session_requests.closed_at IS 'When it expired or was cancelled.';

CREATE TABLE reviews (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    mechanic_id uuid NOT NULL REFERENCES mechanics (id) ON DELETE RESTRICT,
    rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_mechanic_id_idx ON reviews (mechanic_id);
COMMENT ON TABLE reviews IS 'A customer''s rating of a session, one per session.';
COMMENT ON COLUMN reviews.id IS 'Review id (UUID).';
COMMENT ON COLUMN reviews.session_id IS 'The reviewed session (unique: one review per session).';
COMMENT ON COLUMN reviews.customer_id IS 'The reviewing customer.';
COMMENT ON COLUMN reviews.mechanic_id IS 'The mechanic reviewed.';
COMMENT ON COLUMN reviews.rating IS 'Stars, 1 to 5.';
COMMENT ON COLUMN reviews.comment IS 'Free text, optional.';
COMMENT ON COLUMN reviews.created_at IS 'When the review was written.';
