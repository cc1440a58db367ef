-- 0020: purchases started by the checkout endpoint, before Stripe knows about them.
-- Their id is the Checkout Session's client_reference_id and the Stripe idempotency key.
-- The foreign key to session_requests is added by 0031: creating a foreign key locks the
-- referenced table, and one transaction locking both sessions and session_requests would
-- wait in a cycle with the application, which writes them in either order.

CREATE TABLE checkout_purchases (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    customer_email text NOT NULL CHECK (customer_email ~ '^[^@\s]+@[^@\s]+$'),
    plan_code text NOT NULL REFERENCES plans (code) ON DELETE RESTRICT,
    amount_minor integer NOT NULL CHECK (amount_minor > 0),
    currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    preferred_workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    routing_type text NOT NULL DEFAULT 'broadcast'
    CHECK (routing_type IN ('workshop_only', 'hybrid', 'broadcast')),
    intake_id uuid REFERENCES intakes (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'fulfilled', 'failed', 'expired')),
    failure_reason text,
    stripe_checkout_session_id text UNIQUE
    CHECK (stripe_checkout_session_id ~ '^cs_[A-Za-z0-9_]+$'),
    session_id uuid REFERENCES sessions (id) ON DELETE SET NULL,
    session_request_id uuid,  -- references session_requests: 0031
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    fulfilled_at timestamptz,
    CHECK (routing_type = 'broadcast' OR preferred_workshop_id IS NOT NULL),
    CHECK ((status = 'fulfilled') = (fulfilled_at IS NOT NULL)),
    CHECK ((status = 'failed') = (failure_reason IS NOT NULL))
);
CREATE INDEX checkout_purchases_customer_id_idx ON checkout_purchases (customer_id, created_at);
CREATE INDEX checkout_purchases_pending_idx ON checkout_purchases (created_at)
WHERE status = 'pending';

COMMENT ON TABLE checkout_purchases IS
'A purchase started by GET /api/checkout/create-session; fulfilled once by the verified Stripe webhook.';
COMMENT ON COLUMN checkout_purchases.id IS
'Purchase id: the Checkout Session client_reference_id and the Stripe idempotency key.';
COMMENT ON COLUMN checkout_purchases.customer_id IS 'The authenticated customer (bearer token sub).';
COMMENT ON COLUMN checkout_purchases.customer_email IS 'The customer''s e-mail when the purchase started.';
COMMENT ON COLUMN checkout_purchases.plan_code IS 'The plan bought.';
COMMENT ON COLUMN checkout_purchases.amount_minor IS 'Price copied from plans.price_minor; Stripe must report exactly this.';
COMMENT ON COLUMN checkout_purchases.currency IS 'Currency copied from plans.currency.';
COMMENT ON COLUMN checkout_purchases.preferred_workshop_id IS 'The workshop the customer chose, if any.';
COMMENT ON COLUMN checkout_purchases.routing_type IS 'Normalised routing type (validate_routing_choice).';
COMMENT ON COLUMN checkout_purchases.intake_id IS 'The customer''s intake, if any.';
COMMENT ON COLUMN checkout_purchases.status IS
'pending (awaiting payment), fulfilled (session created), failed (see failure_reason), expired.';
COMMENT ON COLUMN checkout_purchases.failure_reason IS
'payment_failed, amount_mismatch, ... (set exactly when status = failed).';
COMMENT ON COLUMN checkout_purchases.stripe_checkout_session_id IS 'The Stripe Checkout Session (cs_...) created for it.';
COMMENT ON COLUMN checkout_purchases.session_id IS 'The session created on fulfillment.';
COMMENT ON COLUMN checkout_purchases.session_request_id IS 'The routed session request created on fulfillment.';
COMMENT ON COLUMN checkout_purchases.created_at IS 'When the purchase started.';
COMMENT ON COLUMN checkout_purchases.updated_at IS 'When the row last changed.';
COMMENT ON COLUMN checkout_purchases.fulfilled_at IS 'When it was fulfilled.';
