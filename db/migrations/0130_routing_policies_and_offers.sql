-- 0130: routing policies as data, and offers as rows.
--   * routing_parameters: the registry of every knob the routing engine reads (name, kind,
--     default, bounds, meaning). Features add their rows in their own migrations.
--   * routing_policies: a named set of overrides of those defaults. A policy's parameters never
--     change once created (make a new policy instead), so a request routed under a policy keeps
--     its rules; exactly one policy is the default (is_default).
--   * session_requests.routing_policy_id: the policy a request is routed under (NULL on requests
--     made before this release: the registry's defaults, which are the constants of that time).
--   * organizations.routing_policy_id: a workshop's own policy for requests that prefer it.
--   * offers: who was offered which request, when, until when, and the outcome.
--   * mechanic_rankings: each mechanic's quality score within a tier (rating and reliability),
--     kept by the ranking; the offer order reads it (no row: 0, the neutral score).
-- The current routing_settings row (a DBA may have changed it) becomes the default policy's
-- overrides; routing_settings itself is kept until the engine reads the policy everywhere.
-- Online: new tables; nullable columns without default; the foreign keys NOT VALID (validated
-- by 0131).

CREATE TABLE IF NOT EXISTS routing_parameters (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    kind text NOT NULL CHECK (kind IN ('integer', 'number', 'boolean', 'text')),
    default_value jsonb NOT NULL,
    min_value numeric,
    max_value numeric,
    allowed_values text[],
    nullable boolean NOT NULL DEFAULT FALSE,
    description text NOT NULL CHECK (btrim(description) <> ''),
    CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value),
    CHECK (allowed_values IS NULL OR kind = 'text')
);

COMMENT ON TABLE routing_parameters IS
'Every parameter the routing engine reads from a routing policy, with its default (what a policy that does not set it gets).';
COMMENT ON COLUMN routing_parameters.name IS 'The parameter''s key in routing_policies.params.';
COMMENT ON COLUMN routing_parameters.kind IS 'integer, number, boolean or text: the JSON value''s type.';
COMMENT ON COLUMN routing_parameters.default_value IS
'The value when a policy does not set it (JSON).';
COMMENT ON COLUMN routing_parameters.min_value IS 'Smallest value allowed (integer and number), NULL: no bound.';
COMMENT ON COLUMN routing_parameters.max_value IS 'Largest value allowed (integer and number), NULL: no bound.';
COMMENT ON COLUMN routing_parameters.allowed_values IS 'The values allowed (text), NULL: any.';
COMMENT ON COLUMN routing_parameters.nullable IS 'TRUE when a policy may set it to null (e.g. "never").';
COMMENT ON COLUMN routing_parameters.description IS 'What the parameter does, in the product''s words.';

INSERT INTO routing_parameters (name, kind, default_value, min_value, max_value, nullable, description) VALUES
(
    'hybrid_window_seconds', 'integer', '60', 0, 86400, FALSE,
    'How long the preferred workshop has a hybrid request to itself (0: no window).'
),
(
    'workshop_only_wait_seconds', 'integer', '600', 1, 604800, FALSE,
    'How long a workshop_only request waits for an accept before it expires (and is refunded).'
),
(
    'open_wait_seconds', 'integer', '1800', 1, 604800, TRUE,
    'How long a broadcast or hybrid request waits for an accept before it expires (null: never).'
),
(
    'escalate_on_preferred_declines', 'boolean', 'true', NULL, NULL, FALSE,
    'Open a hybrid request to everyone at once when everyone available at the preferred workshop declined.'
)
ON CONFLICT (name) DO NOTHING;

CREATE TABLE IF NOT EXISTS routing_policies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    description text,
    params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    is_default boolean NOT NULL DEFAULT FALSE,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE routing_policies IS
'Named routing policies: overrides of routing_parameters'' defaults. Parameters never change once created; exactly one policy is the default.';
COMMENT ON COLUMN routing_policies.id IS 'Identity; what session_requests.routing_policy_id records.';
COMMENT ON COLUMN routing_policies.name IS 'Unique name (lower case, digits, _ and -).';
COMMENT ON COLUMN routing_policies.description IS 'What the policy is for.';
COMMENT ON COLUMN routing_policies.params IS
'The parameters it sets (JSON object; keys from routing_parameters, values checked against their kind and bounds).';
COMMENT ON COLUMN routing_policies.is_default IS 'TRUE for the one policy new requests get when nothing else decides.';
COMMENT ON COLUMN routing_policies.created_at IS 'When it was created.';

CREATE UNIQUE INDEX IF NOT EXISTS routing_policies_one_default_idx
ON routing_policies (is_default) WHERE is_default;

-- The default policy: today's routing_settings where they differ from the registry's defaults.
INSERT INTO routing_policies (name, description, params, is_default)
SELECT
    'default' AS name,
    'The marketplace''s routing when no workshop policy or experiment decides.' AS description,
    coalesce((
        SELECT
            jsonb_strip_nulls(jsonb_build_object(
                'hybrid_window_seconds', nullif(s.hybrid_window_seconds, 60),
                'workshop_only_wait_seconds', nullif(s.workshop_only_wait_seconds, 600),
                'open_wait_seconds', nullif(s.open_wait_seconds, 1800)
            ))
            || CASE WHEN s.open_wait_seconds IS NULL THEN '{"open_wait_seconds": null}'::jsonb ELSE '{}' END
                AS params
        FROM routing_settings AS s
        WHERE s.id
    ), '{}') AS params,
    TRUE AS is_default
WHERE NOT EXISTS (SELECT 1 FROM routing_policies);

ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS routing_policy_id bigint;
COMMENT ON COLUMN session_requests.routing_policy_id IS
'The routing policy the request is routed under; NULL: made before routing policies (the registry''s defaults).';
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS routing_policy_id bigint;
COMMENT ON COLUMN organizations.routing_policy_id IS
'The workshop''s own routing policy for requests that prefer it; NULL: the default policy.';

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint WHERE conname = 'session_requests_routing_policy_id_fkey'
    ) THEN
        ALTER TABLE session_requests ADD CONSTRAINT session_requests_routing_policy_id_fkey
        FOREIGN KEY (routing_policy_id) REFERENCES routing_policies (id) NOT VALID;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint WHERE conname = 'organizations_routing_policy_id_fkey'
    ) THEN
        ALTER TABLE organizations ADD CONSTRAINT organizations_routing_policy_id_fkey
        FOREIGN KEY (routing_policy_id) REFERENCES routing_policies (id) NOT VALID;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS offers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_request_id uuid NOT NULL REFERENCES session_requests (id) ON DELETE CASCADE,
    mechanic_id uuid NOT NULL REFERENCES mechanics (id) ON DELETE CASCADE,
    workshop_id uuid,
    tier text NOT NULL CHECK (tier IN ('preferred', 'workshop', 'independent', 'open', 'returning')),
    score integer NOT NULL,
    wave smallint NOT NULL DEFAULT 0 CHECK (wave >= 0),
    offered_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    outcome text CHECK (outcome IN ('accepted', 'declined', 'timed_out', 'rescinded')),
    outcome_at timestamptz,
    reason text CHECK (reason IS NULL OR length(reason) <= 200),
    UNIQUE (session_request_id, mechanic_id),
    CHECK (expires_at > offered_at),
    CHECK ((outcome IS NULL) = (outcome_at IS NULL)),
    CHECK (outcome_at IS NULL OR outcome_at >= offered_at),
    CHECK (reason IS NULL OR outcome IN ('declined', 'rescinded', 'timed_out'))
);

COMMENT ON TABLE offers IS
'One row per request offered to a mechanic: when, until when, and how it ended (accepted, declined, timed out, rescinded).';
COMMENT ON COLUMN offers.id IS 'Identity, in the order offers were made.';
COMMENT ON COLUMN offers.session_request_id IS 'The request offered.';
COMMENT ON COLUMN offers.mechanic_id IS 'The mechanic it was offered to.';
COMMENT ON COLUMN offers.workshop_id IS 'The mechanic''s workshop when offered (NULL: independent).';
COMMENT ON COLUMN offers.tier IS
'Why this mechanic: preferred (the preferred workshop), workshop (another workshop), independent, open (broadcast), returning (the customer''s previous mechanic).';
COMMENT ON COLUMN offers.score IS 'The offer score when offered (ranking within the request).';
COMMENT ON COLUMN offers.wave IS 'The wave of the widening schedule it was made in (0: the first).';
COMMENT ON COLUMN offers.offered_at IS 'When it was offered.';
COMMENT ON COLUMN offers.expires_at IS 'When it times out if the mechanic does not answer.';
COMMENT ON COLUMN offers.outcome IS
'NULL while live; accepted, declined (by the mechanic), timed_out (no answer by expires_at), rescinded (the request was taken by someone else, expired or cancelled).';
COMMENT ON COLUMN offers.outcome_at IS 'When the outcome was recorded.';
COMMENT ON COLUMN offers.reason IS 'The decline''s reason, or why it was rescinded.';

-- Exactly one accepted offer per request.
CREATE UNIQUE INDEX IF NOT EXISTS offers_one_accepted_idx
ON offers (session_request_id) WHERE outcome = 'accepted';
-- The timeout sweep: live offers by expiry.
CREATE INDEX IF NOT EXISTS offers_live_expires_at_idx ON offers (expires_at) WHERE outcome IS NULL;
-- A mechanic's offers, newest first (dashboard, concurrent-offer cap, figures).
CREATE INDEX IF NOT EXISTS offers_mechanic_offered_at_idx ON offers (mechanic_id, offered_at DESC);

CREATE TABLE IF NOT EXISTS mechanic_rankings (
    mechanic_id uuid PRIMARY KEY REFERENCES mechanics (id) ON DELETE CASCADE,
    rank_score double precision NOT NULL DEFAULT 0,
    computed_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE mechanic_rankings IS
'Each mechanic''s quality score within a tier, kept by the ranking; who is offered first among equals.';
COMMENT ON COLUMN mechanic_rankings.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN mechanic_rankings.rank_score IS
'Higher is offered first among mechanics of the same tier; 0 is neutral (also for a mechanic without a row).';
COMMENT ON COLUMN mechanic_rankings.computed_at IS 'When the score was last recomputed.';

REVOKE ALL ON routing_parameters, routing_policies, offers, mechanic_rankings FROM PUBLIC;
