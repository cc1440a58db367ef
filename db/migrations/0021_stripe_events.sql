-- 0021: Stripe webhook events seen, one row per event id, written in the same
-- transaction as what the event caused (a failed fulfillment leaves no row, so
-- Stripe's retry is processed again; a duplicate delivery finds the row).

CREATE TABLE stripe_events (
    id text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9_]+$'),
    type text NOT NULL CHECK (btrim(type) <> ''),
    livemode boolean NOT NULL,
    stripe_checkout_session_id text,
    purchase_id uuid REFERENCES checkout_purchases (id) ON DELETE SET NULL,
    outcome text NOT NULL DEFAULT 'received',
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_checkout_session_idx ON stripe_events (stripe_checkout_session_id);
CREATE INDEX stripe_events_purchase_id_idx ON stripe_events (purchase_id);

COMMENT ON TABLE stripe_events IS 'Verified Stripe webhook events processed, for idempotency and audit.';
COMMENT ON COLUMN stripe_events.id IS 'Stripe event id (evt_...).';
COMMENT ON COLUMN stripe_events.type IS 'Event type, e.g. checkout.session.completed.';
COMMENT ON COLUMN stripe_events.livemode IS 'Whether Stripe sent it in live mode.';
COMMENT ON COLUMN stripe_events.stripe_checkout_session_id IS 'The Checkout Session it is about, if any.';
COMMENT ON COLUMN stripe_events.purchase_id IS 'Our purchase it is about, if any.';
COMMENT ON COLUMN stripe_events.outcome IS
'What processing did: fulfilled, already_fulfilled, awaiting_payment, amount_mismatch, payment_failed, expired, unknown_purchase, ignored.';
COMMENT ON COLUMN stripe_events.received_at IS 'When it was processed.';
