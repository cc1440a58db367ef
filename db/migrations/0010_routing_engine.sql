-- 0010: the routing engine.
-- Settings, per-request routing state, the append-only audit trail and the
-- transactional outbox of notifications. Functions and triggers live in
-- db/functions/ and db/triggers/ (files named routing_* or after the function).

-- Settings: one row, defaults for the windows and waits; each request stores its own copy.
CREATE TABLE routing_settings (
    id boolean PRIMARY KEY DEFAULT TRUE CHECK (id),
    hybrid_window_seconds integer NOT NULL DEFAULT 60
    CHECK (hybrid_window_seconds BETWEEN 0 AND 86400),
    workshop_only_wait_seconds integer NOT NULL DEFAULT 600
    CHECK (workshop_only_wait_seconds BETWEEN 1 AND 604800),
    open_wait_seconds integer DEFAULT 1800
    CHECK (open_wait_seconds IS NULL OR open_wait_seconds BETWEEN 1 AND 604800),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO routing_settings DEFAULT VALUES;
COMMENT ON TABLE routing_settings IS
'Routing defaults (exactly one row). create_session_request copies them into each request, so changing them never changes requests already made.';
COMMENT ON COLUMN routing_settings.id IS 'Always TRUE: makes this a one-row table.';
COMMENT ON COLUMN routing_settings.hybrid_window_seconds IS
'Length of the exclusive window of the preferred workshop for hybrid requests; 0 disables the window.';
COMMENT ON COLUMN routing_settings.workshop_only_wait_seconds IS
'How long a workshop_only request waits for the workshop before it expires (outcome expired_no_mechanic, refund due).';
COMMENT ON COLUMN routing_settings.open_wait_seconds IS
'How long hybrid and broadcast requests wait before they expire; NULL means they never expire.';
COMMENT ON COLUMN routing_settings.updated_at IS 'When the settings last changed.';

-- Per-request routing state. Online-safe: catalog-only columns, constraints NOT VALID
-- (validated by 0034), indexes built CONCURRENTLY by 0011.
ALTER TABLE session_requests
ADD COLUMN intake_id uuid,
ADD COLUMN exclusive_until timestamptz,
ADD COLUMN expires_at timestamptz,
ADD COLUMN escalated_at timestamptz,
ADD COLUMN outcome text,
ADD CONSTRAINT session_requests_intake_id_fkey
FOREIGN KEY (intake_id) REFERENCES intakes (id) ON DELETE SET NULL NOT VALID,
ADD CONSTRAINT session_requests_outcome_check
CHECK (outcome IN ('accepted', 'expired_no_mechanic', 'cancelled')) NOT VALID,
ADD CONSTRAINT session_requests_outcome_status_check
CHECK (
    outcome IS NULL
    OR (status = 'accepted' AND outcome = 'accepted')
    OR (status = 'expired' AND outcome = 'expired_no_mechanic')
    OR (status = 'cancelled' AND outcome = 'cancelled')
) NOT VALID,
ADD CONSTRAINT session_requests_window_only_hybrid_check
CHECK (exclusive_until IS NULL OR routing_type = 'hybrid') NOT VALID;

COMMENT ON COLUMN session_requests.intake_id IS 'The intake (vehicle and problem) shown to the mechanics offered the request.';
COMMENT ON COLUMN session_requests.exclusive_until IS
'hybrid only: until this moment only the preferred workshop''s mechanics may accept. NULL when there is no window '
'(not hybrid, window disabled, or skipped because the workshop had nobody available at creation).';
COMMENT ON COLUMN session_requests.expires_at IS
'After this moment the request can no longer be accepted and the sweep marks it expired; NULL: never expires.';
COMMENT ON COLUMN session_requests.escalated_at IS
'hybrid only: when the sweep opened the request to everyone after the exclusive window passed.';
COMMENT ON COLUMN session_requests.outcome IS
'How the request ended: accepted, expired_no_mechanic (nobody accepted in time: refund due) or cancelled; NULL while pending.';

-- Audit trail: append-only (a trigger refuses UPDATE and DELETE).
CREATE TABLE routing_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES session_requests (id) ON DELETE RESTRICT,
    event_type text NOT NULL CHECK (
        event_type IN (
            'created', 'window_skipped', 'offered', 'escalated', 'accepted', 'expired', 'cancelled'
        )
    ),
    mechanic_id uuid REFERENCES mechanics (id) ON DELETE RESTRICT,
    workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(detail) = 'object'),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX routing_events_request_idx ON routing_events (request_id, id);
CREATE INDEX routing_events_type_idx ON routing_events (event_type, created_at);
COMMENT ON TABLE routing_events IS
'Append-only audit trail of routing decisions, one row per step of a request; explain_routing(request_id) reads it.';
COMMENT ON COLUMN routing_events.id IS 'Event id; increasing, gives the order of the steps.';
COMMENT ON COLUMN routing_events.request_id IS 'The session request.';
COMMENT ON COLUMN routing_events.event_type IS
'created (strategy, candidate counts), window_skipped (hybrid without window), offered (audience: workshop or everyone), '
'escalated (hybrid window passed, open to everyone), accepted, expired, cancelled.';
COMMENT ON COLUMN routing_events.mechanic_id IS 'accepted: the mechanic who accepted; NULL otherwise.';
COMMENT ON COLUMN routing_events.workshop_id IS
'The workshop concerned: the preferred one for created/offered/window_skipped, the serving one for accepted.';
COMMENT ON COLUMN routing_events.detail IS 'Event-specific facts (counts, window, outcome, audience, channels).';
COMMENT ON COLUMN routing_events.created_at IS 'When the step happened (clock time).';

-- Transactional outbox of notifications; each row is also sent with pg_notify by a trigger.
CREATE TABLE routing_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel text NOT NULL CHECK (channel ~ '^session_requests(_ws_[0-9a-f]{32})?$'),
    request_id uuid NOT NULL REFERENCES session_requests (id) ON DELETE RESTRICT,
    event_type text NOT NULL CHECK (event_type IN ('created', 'escalated', 'accepted', 'expired', 'cancelled')),
    payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
CREATE INDEX routing_outbox_channel_idx ON routing_outbox (channel, id);
CREATE INDEX routing_outbox_unpublished_idx ON routing_outbox (id) WHERE published_at IS NULL;
COMMENT ON TABLE routing_outbox IS
'Transactional outbox: every routing notification is a row here and is sent with pg_notify on commit; '
'a consumer that missed some replays the rows after the last id it saw (routing_outbox_replay).';
COMMENT ON COLUMN routing_outbox.id IS 'Outbox id, increasing; sent in the payload as outbox_id.';
COMMENT ON COLUMN routing_outbox.channel IS
'session_requests (requests open to everyone) or session_requests_ws_<workshop uuid, 32 hex digits> (that workshop''s requests).';
COMMENT ON COLUMN routing_outbox.request_id IS 'The session request announced.';
COMMENT ON COLUMN routing_outbox.event_type IS 'created, escalated, accepted, expired or cancelled.';
COMMENT ON COLUMN routing_outbox.payload IS
'The JSON sent: event, request_id, routing_type, preferred_workshop_id, priority_score, audience, plan_code, '
'created_at, exclusive_until, expires_at, mechanic_id, workshop_id (outbox_id is added when sent).';
COMMENT ON COLUMN routing_outbox.created_at IS 'When the row was written.';
COMMENT ON COLUMN routing_outbox.published_at IS
'Optional: set by an external relay (push, e-mail) once it forwarded the row; pg_notify itself needs no marking.';

-- The mechanic role: sees only the pending requests offered to it now and those it accepted.
-- The mechanic is identified by SET app.mechanic_id = '<uuid>' or, as PostgREST does,
-- request.jwt.claims ->> 'mechanic_id'.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mechanic') THEN
        CREATE ROLE mechanic NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO mechanic;
GRANT SELECT ON session_requests TO mechanic;
GRANT SELECT (id, workshop_id, status, is_available) ON mechanics TO mechanic;
GRANT SELECT (id, status) ON organizations TO mechanic;

ALTER TABLE session_requests ENABLE ROW LEVEL SECURITY;

CREATE POLICY session_requests_mechanic_select ON session_requests
FOR SELECT TO mechanic
USING (
    mechanic_id = coalesce(
        nullif(current_setting('app.mechanic_id', TRUE), ''),
        nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb ->> 'mechanic_id'
    )::uuid
    OR (
        status = 'pending'
        AND (expires_at IS NULL OR expires_at > now())
        AND EXISTS (
            SELECT 1
            FROM mechanics AS m
            LEFT JOIN organizations AS o ON m.workshop_id = o.id
            WHERE
                m.id = coalesce(
                    nullif(current_setting('app.mechanic_id', TRUE), ''),
                    nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb ->> 'mechanic_id'
                )::uuid
                AND m.status = 'active'
                AND m.is_available
                AND (m.workshop_id IS NULL OR o.status = 'active')
                AND (
                    session_requests.routing_type = 'broadcast'
                    OR (
                        session_requests.routing_type = 'workshop_only'
                        AND m.workshop_id = session_requests.preferred_workshop_id
                    )
                    OR (
                        session_requests.routing_type = 'hybrid'
                        AND (
                            m.workshop_id = session_requests.preferred_workshop_id
                            OR session_requests.exclusive_until IS NULL
                            OR session_requests.exclusive_until <= now()
                        )
                    )
                )
        )
    )
);
COMMENT ON POLICY session_requests_mechanic_select ON session_requests IS
'A mechanic (role mechanic, id in app.mechanic_id or request.jwt.claims.mechanic_id) sees the pending requests offered '
'to them now (same rule as get_mechanic_offers) and the requests they accepted.';

-- Every other non-owner role keeps seeing every row (RLS only narrows the mechanic role).
CREATE POLICY session_requests_other_roles ON session_requests
USING (NOT pg_has_role(current_user, 'mechanic', 'MEMBER'))
WITH CHECK (NOT pg_has_role(current_user, 'mechanic', 'MEMBER'));
COMMENT ON POLICY session_requests_other_roles ON session_requests IS
'Roles that are not the mechanic role are not restricted by row-level security.';
