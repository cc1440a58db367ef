-- 0160: experiments on routing policies.
--   * routing_experiments: an experiment compares routing policies (its arms) on the
--     parameters it names, assigned by customer (a deterministic hash of the customer) or by
--     switchback (every request of one time window and one group gets the window's arm,
--     drawn per window from the experiment's seed); draft -> running -> stopped.
--   * routing_experiment_arms: an arm is a routing policy (the default policy's parameters
--     with the arm's overrides, created for it) and a weight; a guardrail can stop an arm.
--   * routing_experiment_parameters: the parameters an experiment varies;
--     routing_experiment_running holds one row per parameter of a running experiment, so at
--     most one running experiment per parameter (its primary key decides a race of starts).
--   * routing_experiment_assignments: one row per request routed inside an experiment (the
--     experiment, arm, unit and window); none when no experiment runs.
--   * experiment_changes and analytics_experiment_units: the queue of touched requests and
--     the per-unit rollup (one row per experiment, arm, unit and window) the results read;
--     kept by ssr_private.refresh_experiment_results(), so its work grows with the changes.
-- routing_settings stays, deprecated: the engine reads the request's routing policy; an
-- UPDATE of routing_settings makes a new default policy with its values (db/triggers).
-- Online: new tables only.

CREATE TABLE IF NOT EXISTS routing_experiments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    description text CHECK (description IS NULL OR length(description) <= 2000),
    unit text NOT NULL CHECK (unit IN ('customer', 'switchback')),
    window_seconds integer CHECK (window_seconds BETWEEN 60 AND 604800),
    grouping text CHECK (grouping IN ('marketplace', 'preferred_workshop')),
    routing_types text[] CHECK (routing_types <@ ARRAY['workshop_only', 'hybrid', 'broadcast']),
    seed bigint NOT NULL,
    guardrails jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(guardrails) = 'array'),
    state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'running', 'stopped')),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    stopped_at timestamptz,
    stop_reason text,
    CHECK ((unit = 'switchback') = (window_seconds IS NOT NULL AND grouping IS NOT NULL)),
    CHECK ((state = 'draft') = (started_at IS NULL)),
    CHECK ((state = 'stopped') = (stopped_at IS NOT NULL))
);

COMMENT ON TABLE routing_experiments IS
'Experiments comparing routing policies (their arms), assigned by customer hash or by switchback (time window x group).';
COMMENT ON COLUMN routing_experiments.id IS 'Identity.';
COMMENT ON COLUMN routing_experiments.name IS 'Unique name (lower case, digits, _ and -).';
COMMENT ON COLUMN routing_experiments.description IS 'What is tested and why.';
COMMENT ON COLUMN routing_experiments.unit IS
'The randomization unit: customer (the same customer always gets the same arm) or switchback (time window x group).';
COMMENT ON COLUMN routing_experiments.window_seconds IS 'Switchback: the length of a window (UTC epoch-aligned).';
COMMENT ON COLUMN routing_experiments.grouping IS
'Switchback: marketplace (one group) or preferred_workshop (one group per preferred workshop, one for none).';
COMMENT ON COLUMN routing_experiments.routing_types IS 'The routing types enrolled (NULL: all).';
COMMENT ON COLUMN routing_experiments.seed IS 'Seed of the assignment hash: the schedule is reproducible from it.';
COMMENT ON COLUMN routing_experiments.guardrails IS
'JSON array of {metric, max, min_requests}: an arm whose metric passes max (after min_requests) is stopped.';
COMMENT ON COLUMN routing_experiments.state IS 'draft, running or stopped.';
COMMENT ON COLUMN routing_experiments.created_by IS 'The staff member who created it.';
COMMENT ON COLUMN routing_experiments.created_at IS 'When it was created.';
COMMENT ON COLUMN routing_experiments.started_at IS 'When it started (NULL: draft).';
COMMENT ON COLUMN routing_experiments.stopped_at IS 'When it stopped.';
COMMENT ON COLUMN routing_experiments.stop_reason IS 'Why it stopped (staff, or every treatment arm stopped by a guardrail).';

CREATE INDEX IF NOT EXISTS routing_experiments_running_idx ON routing_experiments (id) WHERE state = 'running';

CREATE TABLE IF NOT EXISTS routing_experiment_arms (
    experiment_id bigint NOT NULL REFERENCES routing_experiments (id) ON DELETE CASCADE,
    arm text NOT NULL CHECK (arm ~ '^[a-z][a-z0-9_-]{0,30}$'),
    ordinal smallint NOT NULL CHECK (ordinal >= 0),
    weight numeric NOT NULL CHECK (weight > 0 AND weight <= 1),
    is_control boolean NOT NULL,
    routing_policy_id bigint NOT NULL REFERENCES routing_policies (id),
    overrides jsonb NOT NULL CHECK (jsonb_typeof(overrides) = 'object'),
    stopped_at timestamptz,
    stop_reason text,
    PRIMARY KEY (experiment_id, arm),
    UNIQUE (experiment_id, ordinal)
);

COMMENT ON TABLE routing_experiment_arms IS
'The arms of an experiment: each a routing policy (the default with the arm''s overrides) and a share of the units.';
COMMENT ON COLUMN routing_experiment_arms.experiment_id IS 'The experiment.';
COMMENT ON COLUMN routing_experiment_arms.arm IS 'The arm''s name within the experiment.';
COMMENT ON COLUMN routing_experiment_arms.ordinal IS 'Its position (0 first): the order of the weights in the hash.';
COMMENT ON COLUMN routing_experiment_arms.weight IS 'Its share of the units (the weights sum to 1).';
COMMENT ON COLUMN routing_experiment_arms.is_control IS 'TRUE for the one arm the others are compared with.';
COMMENT ON COLUMN routing_experiment_arms.routing_policy_id IS 'The routing policy its requests are routed under.';
COMMENT ON COLUMN routing_experiment_arms.overrides IS 'What the arm sets (the experiment''s parameters only).';
COMMENT ON COLUMN routing_experiment_arms.stopped_at IS
'When a guardrail stopped it (its units are then routed under the control policy, unrecorded).';
COMMENT ON COLUMN routing_experiment_arms.stop_reason IS 'The guardrail that stopped it, with the figures.';

CREATE UNIQUE INDEX IF NOT EXISTS routing_experiment_arms_one_control_idx
ON routing_experiment_arms (experiment_id) WHERE is_control;

CREATE TABLE IF NOT EXISTS routing_experiment_parameters (
    experiment_id bigint NOT NULL REFERENCES routing_experiments (id) ON DELETE CASCADE,
    parameter text NOT NULL REFERENCES routing_parameters (name),
    PRIMARY KEY (experiment_id, parameter)
);

COMMENT ON TABLE routing_experiment_parameters IS 'The routing parameters an experiment varies.';
COMMENT ON COLUMN routing_experiment_parameters.experiment_id IS 'The experiment.';
COMMENT ON COLUMN routing_experiment_parameters.parameter IS 'A registered parameter (routing_parameters).';

CREATE TABLE IF NOT EXISTS routing_experiment_running (
    parameter text PRIMARY KEY REFERENCES routing_parameters (name),
    experiment_id bigint NOT NULL REFERENCES routing_experiments (id) ON DELETE CASCADE
);

COMMENT ON TABLE routing_experiment_running IS
'One row per parameter of a running experiment: at most one running experiment per parameter (the key decides races).';
COMMENT ON COLUMN routing_experiment_running.parameter IS 'The parameter.';
COMMENT ON COLUMN routing_experiment_running.experiment_id IS 'The running experiment that varies it.';

CREATE TABLE IF NOT EXISTS routing_experiment_assignments (
    session_request_id uuid PRIMARY KEY REFERENCES session_requests (id) ON DELETE CASCADE,
    session_id uuid,
    experiment_id bigint NOT NULL REFERENCES routing_experiments (id) ON DELETE CASCADE,
    arm text NOT NULL,
    unit_key text NOT NULL,
    window_start timestamptz NOT NULL,
    assigned_at timestamptz NOT NULL,
    FOREIGN KEY (experiment_id, arm) REFERENCES routing_experiment_arms (experiment_id, arm)
);

COMMENT ON TABLE routing_experiment_assignments IS
'Which experiment arm a request was routed under, for which unit and window (none when no experiment ran).';
COMMENT ON COLUMN routing_experiment_assignments.session_request_id IS 'The request.';
COMMENT ON COLUMN routing_experiment_assignments.session_id IS 'Its session (for the session''s outcomes).';
COMMENT ON COLUMN routing_experiment_assignments.experiment_id IS 'The experiment.';
COMMENT ON COLUMN routing_experiment_assignments.arm IS 'The arm.';
COMMENT ON COLUMN routing_experiment_assignments.unit_key IS
'The randomization unit: the customer id (customer), or the group (switchback: all, or the preferred workshop id / none).';
COMMENT ON COLUMN routing_experiment_assignments.window_start IS
'Switchback: the start of the window; customer: -infinity (one unit for the whole experiment).';
COMMENT ON COLUMN routing_experiment_assignments.assigned_at IS 'When the request was assigned (its creation).';

CREATE INDEX IF NOT EXISTS routing_experiment_assignments_unit_idx
ON routing_experiment_assignments (experiment_id, arm, unit_key, window_start);
CREATE INDEX IF NOT EXISTS routing_experiment_assignments_session_idx
ON routing_experiment_assignments (session_id);

CREATE TABLE IF NOT EXISTS experiment_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_request_id uuid NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE experiment_changes IS
'Queue of assigned requests whose outcome changed (status, session, refund, review): refresh_experiment_results takes it.';
COMMENT ON COLUMN experiment_changes.id IS 'Identity, in queue order.';
COMMENT ON COLUMN experiment_changes.session_request_id IS 'The assigned request that changed.';
COMMENT ON COLUMN experiment_changes.logged_at IS 'When.';

CREATE TABLE IF NOT EXISTS analytics_experiment_units (
    experiment_id bigint NOT NULL REFERENCES routing_experiments (id) ON DELETE CASCADE,
    arm text NOT NULL,
    unit_key text NOT NULL,
    window_start timestamptz NOT NULL,
    requests integer NOT NULL,
    accepted integer NOT NULL,
    accept_seconds_sum double precision NOT NULL,
    accept_buckets double precision[] NOT NULL,
    accept_counts integer[] NOT NULL,
    expired integer NOT NULL,
    cancelled integer NOT NULL,
    refunds integer NOT NULL,
    refunded_minor bigint NOT NULL,
    completed integer NOT NULL,
    no_show integer NOT NULL,
    review_count integer NOT NULL,
    rating_sum integer NOT NULL,
    recounted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (experiment_id, arm, unit_key, window_start),
    CHECK (cardinality(accept_buckets) = cardinality(accept_counts))
);

COMMENT ON TABLE analytics_experiment_units IS
'Per experiment, arm, randomization unit and window: the outcomes of its requests (recounted when they change).';
COMMENT ON COLUMN analytics_experiment_units.experiment_id IS 'The experiment.';
COMMENT ON COLUMN analytics_experiment_units.arm IS 'The arm.';
COMMENT ON COLUMN analytics_experiment_units.unit_key IS 'The unit (customer id, or switchback group).';
COMMENT ON COLUMN analytics_experiment_units.window_start IS 'Switchback window start; -infinity for customer units.';
COMMENT ON COLUMN analytics_experiment_units.requests IS 'Requests assigned.';
COMMENT ON COLUMN analytics_experiment_units.accepted IS 'Of them accepted.';
COMMENT ON COLUMN analytics_experiment_units.accept_seconds_sum IS 'Sum of their seconds from creation to accept.';
COMMENT ON COLUMN analytics_experiment_units.accept_buckets IS
'Histogram of the times to accept: bucket values (analytics_bucket), ascending.';
COMMENT ON COLUMN analytics_experiment_units.accept_counts IS 'Histogram counts, one per bucket.';
COMMENT ON COLUMN analytics_experiment_units.expired IS 'Requests expired (nobody accepted in time).';
COMMENT ON COLUMN analytics_experiment_units.cancelled IS 'Requests cancelled.';
COMMENT ON COLUMN analytics_experiment_units.refunds IS 'Requests with a refund (not failed).';
COMMENT ON COLUMN analytics_experiment_units.refunded_minor IS 'Their refunded amounts, minor units, all currencies.';
COMMENT ON COLUMN analytics_experiment_units.completed IS 'Sessions completed.';
COMMENT ON COLUMN analytics_experiment_units.no_show IS 'Sessions marked no-show.';
COMMENT ON COLUMN analytics_experiment_units.review_count IS 'Reviews of the sessions.';
COMMENT ON COLUMN analytics_experiment_units.rating_sum IS 'Sum of their stars.';
COMMENT ON COLUMN analytics_experiment_units.recounted_at IS 'When the row was last recounted.';

REVOKE ALL ON routing_experiments, routing_experiment_arms, routing_experiment_parameters, routing_experiment_running,
routing_experiment_assignments, experiment_changes, analytics_experiment_units FROM PUBLIC;
