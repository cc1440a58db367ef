-- 0050: refunds owed to paying customers nobody served, the reconciliation of Stripe
-- Checkout Sessions with our purchases, and the sessions Stripe could not show us.
-- A refund row is written in the same transaction as the outcome that owes it (an
-- expiry, a cancellation, a fulfillment rejected after payment); the unique purchase_id
-- makes a second refund for one purchase impossible. The worker (tools/refunds.py)
-- claims due rows with FOR UPDATE SKIP LOCKED and calls Stripe with the row id as the
-- idempotency key. This transaction locks one busy table (checkout_purchases, for the
-- foreign keys); the foreign keys to sessions and session_requests come in 0052 and 0053,
-- one table per transaction, NOT VALID, and 0054 validates them without blocking anyone.

CREATE TABLE refunds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purchase_id uuid NOT NULL REFERENCES checkout_purchases (id) ON DELETE RESTRICT,
    session_id uuid,
    session_request_id uuid,
    stripe_checkout_session_id text NOT NULL CHECK (stripe_checkout_session_id ~ '^cs_[A-Za-z0-9_]+$'),
    stripe_payment_intent_id text CHECK (stripe_payment_intent_id ~ '^pi_[A-Za-z0-9_]+$'),
    amount_minor integer NOT NULL CHECK (amount_minor > 0),
    currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    reason text NOT NULL CHECK (
        reason IN (
            'expired_no_mechanic', 'customer_cancelled', 'request_cancelled', 'fulfillment_rejected',
            'amount_mismatch'
        )
    ),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    stripe_refund_id text CHECK (stripe_refund_id ~ '^re_[A-Za-z0-9_]+$'),
    stripe_status text CHECK (
        stripe_status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')
    ),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    succeeded_at timestamptz,
    CONSTRAINT refunds_one_per_purchase UNIQUE (purchase_id),
    CONSTRAINT refunds_stripe_refund_id_key UNIQUE (stripe_refund_id),
    CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL)),
    CHECK (status <> 'succeeded' OR stripe_refund_id IS NOT NULL)
);
CREATE INDEX refunds_due_idx ON refunds (next_attempt_at)
WHERE status = 'pending' AND stripe_refund_id IS NULL;
CREATE INDEX refunds_session_id_idx ON refunds (session_id);
CREATE INDEX refunds_session_request_id_idx ON refunds (session_request_id);
CREATE INDEX refunds_payment_intent_idx ON refunds (stripe_payment_intent_id);

COMMENT ON TABLE refunds IS
'A refund owed to a paying customer, at most one per purchase, written in the transaction of the outcome that owes it; '
'the refund worker (tools/refunds.py) makes it with the Stripe Refunds API, the row id as the idempotency key.';
COMMENT ON COLUMN refunds.id IS 'Refund id; the Stripe idempotency key and metadata.refund_id of the Stripe refund.';
COMMENT ON COLUMN refunds.purchase_id IS 'The purchase refunded (unique: never two refunds for one purchase).';
COMMENT ON COLUMN refunds.session_id IS 'The session that will not take place; NULL when fulfillment was rejected.';
COMMENT ON COLUMN refunds.session_request_id IS 'The request that ended unserved; NULL when fulfillment was rejected.';
COMMENT ON COLUMN refunds.stripe_checkout_session_id IS 'The Checkout Session paid (cs_...).';
COMMENT ON COLUMN refunds.stripe_payment_intent_id IS
'The PaymentIntent refunded (pi_...), read from the Checkout Session by the worker.';
COMMENT ON COLUMN refunds.amount_minor IS 'Amount to refund in minor units: what the customer paid.';
COMMENT ON COLUMN refunds.currency IS 'Currency of amount_minor, lower-case ISO 4217.';
COMMENT ON COLUMN refunds.reason IS
'Why it is owed: expired_no_mechanic, customer_cancelled, request_cancelled (cancelled otherwise), '
'fulfillment_rejected (routing refused the paid purchase), amount_mismatch (paid another amount than the price).';
COMMENT ON COLUMN refunds.status IS
'pending (to be made, or made and Stripe still processing), succeeded, failed (Stripe refused or the refund failed).';
COMMENT ON COLUMN refunds.stripe_refund_id IS 'The Stripe refund (re_...) once created.';
COMMENT ON COLUMN refunds.stripe_status IS 'Stripe''s last known status of the refund.';
COMMENT ON COLUMN refunds.attempts IS 'Calls to Stripe recorded (a call whose result was never recorded does not count).';
COMMENT ON COLUMN refunds.last_error IS 'The last error of a call to Stripe, if any.';
COMMENT ON COLUMN refunds.next_attempt_at IS
'When the worker may try (again); moved forward with a capped exponential backoff after a failed call.';
COMMENT ON COLUMN refunds.created_at IS 'When the refund became owed.';
COMMENT ON COLUMN refunds.updated_at IS 'When the row last changed.';
COMMENT ON COLUMN refunds.succeeded_at IS 'When Stripe reported it succeeded.';

-- Reconciliation: each run of the job, and what it did beyond finding things in order.
CREATE TABLE reconciliation_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_since timestamptz NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    sessions_seen integer NOT NULL DEFAULT 0 CHECK (sessions_seen >= 0),
    fulfilled integer NOT NULL DEFAULT 0 CHECK (fulfilled >= 0),
    problems integer NOT NULL DEFAULT 0 CHECK (problems >= 0),
    error text
);
COMMENT ON TABLE reconciliation_runs IS
'One run of the reconciliation job: the paid Checkout Sessions created since created_since, listed from Stripe, '
'checked against our purchases.';
COMMENT ON COLUMN reconciliation_runs.id IS 'Run id.';
COMMENT ON COLUMN reconciliation_runs.created_since IS 'The window: Checkout Sessions created at or after this moment.';
COMMENT ON COLUMN reconciliation_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN reconciliation_runs.finished_at IS 'When the run finished; NULL while running or if it died.';
COMMENT ON COLUMN reconciliation_runs.sessions_seen IS 'Checkout Sessions examined (listed, plus unresolved ones retried).';
COMMENT ON COLUMN reconciliation_runs.fulfilled IS 'Purchases the run fulfilled (their webhook had not done it).';
COMMENT ON COLUMN reconciliation_runs.problems IS
'Sessions needing attention: rejected, amount mismatch, another purchase''s session, still not retrievable.';
COMMENT ON COLUMN reconciliation_runs.error IS 'Why the run stopped early (e.g. Stripe unreachable); NULL when it completed.';

CREATE TABLE reconciliation_actions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
    stripe_checkout_session_id text NOT NULL,
    purchase_id uuid REFERENCES checkout_purchases (id) ON DELETE SET NULL,
    action text NOT NULL,
    detail text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reconciliation_actions_run_idx ON reconciliation_actions (run_id, id);
CREATE INDEX reconciliation_actions_session_idx ON reconciliation_actions (stripe_checkout_session_id);
COMMENT ON TABLE reconciliation_actions IS
'What a reconciliation run did or found for one Checkout Session (sessions already in order are only counted).';
COMMENT ON COLUMN reconciliation_actions.id IS 'Action id, increasing.';
COMMENT ON COLUMN reconciliation_actions.run_id IS 'The run.';
COMMENT ON COLUMN reconciliation_actions.stripe_checkout_session_id IS 'The Checkout Session (cs_...).';
COMMENT ON COLUMN reconciliation_actions.purchase_id IS 'Our purchase, if the session is ours.';
COMMENT ON COLUMN reconciliation_actions.action IS
'The outcome of the fulfillment procedure (fulfilled, fulfillment_rejected, amount_mismatch, session_mismatch, ...) '
'or not_retrievable (Stripe still answers 404 for an unresolved session).';
COMMENT ON COLUMN reconciliation_actions.detail IS 'Free text for the operator.';
COMMENT ON COLUMN reconciliation_actions.created_at IS 'When it was recorded.';

-- Checkout Sessions a webhook named but that the Stripe API answered 404 for (e.g. a key
-- of another account or mode): never acknowledged, kept until a retry or a
-- reconciliation run retrieves them.
CREATE TABLE unresolved_checkout_sessions (
    stripe_checkout_session_id text PRIMARY KEY CHECK (stripe_checkout_session_id ~ '^cs_[A-Za-z0-9_]+$'),
    first_event_id text,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    last_error text,
    resolved_at timestamptz
);
CREATE INDEX unresolved_checkout_sessions_open_idx ON unresolved_checkout_sessions (first_seen_at)
WHERE resolved_at IS NULL;
COMMENT ON TABLE unresolved_checkout_sessions IS
'Checkout Sessions named by a verified webhook that the Stripe API answered 404 for; the webhook was refused '
'(Stripe retries) and reconciliation retries them until they resolve.';
COMMENT ON COLUMN unresolved_checkout_sessions.stripe_checkout_session_id IS 'The Checkout Session (cs_...).';
COMMENT ON COLUMN unresolved_checkout_sessions.first_event_id IS 'The first event that named it (NULL if found otherwise).';
COMMENT ON COLUMN unresolved_checkout_sessions.first_seen_at IS 'When it was first not retrievable.';
COMMENT ON COLUMN unresolved_checkout_sessions.last_seen_at IS 'When it was last not retrievable.';
COMMENT ON COLUMN unresolved_checkout_sessions.attempts IS 'How many times it was not retrievable.';
COMMENT ON COLUMN unresolved_checkout_sessions.last_error IS 'Stripe''s last error message.';
COMMENT ON COLUMN unresolved_checkout_sessions.resolved_at IS
'When it was retrieved and processed by the fulfillment procedure; NULL while unresolved.';
