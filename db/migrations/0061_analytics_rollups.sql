-- 0061: analytics kept fresh incrementally, at any history size.
-- The BI views (workshop_session_analytics, routing_effectiveness) read rollup tables
-- instead of aggregating the history on every read; the materialized copies and their
-- full refresh go.
--   * Triggers on sessions, session_requests and reviews append the periods a change
--     touches to analytics_changes (an insert-only queue: concurrent writers never
--     update a shared row, so fulfillment does not serialize on hot rollup rows).
--   * refresh_analytics(), run every few seconds by the worker (tools/sweeper.py),
--     takes the queued changes, recounts only the touched workshop-days and
--     routing-days from the base tables, and merges the touched weeks and months from
--     the day rows. Its work grows with the changes, not with the history.
--   * Times to accept are kept per workshop and day as a histogram with fixed buckets
--     (analytics_bucket: 3 significant digits, at most 0.5 % from the true value), a
--     mergeable summary: a week or month adds up its days' buckets and takes
--     percentile_cont over them.
--   * analytics_rollups_rebuild() recounts everything (after bulk loads with triggers
--     off); a property-based test keeps the rollups equal to a recount.
-- Online: new tables only, and the materialized copies dropped (nothing of the marketplace
-- reads them). The indexes the day recount uses are built CONCURRENTLY by 0063; the history
-- already there is queued for the job by 0065 (after the triggers exist).

-- The documented relations of the analytics role become the two views; the copies go.
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS workshop_session_analytics_mv;
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS routing_effectiveness_mv;

CREATE TABLE analytics_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workshop_id uuid,
    preferred_workshop_id uuid,
    routing_type text,
    created_at timestamptz NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics_changes IS
'Queue of changes not yet in the analytics rollups: one row per changed version of a session, request or review, '
'written by triggers, consumed (deleted) by refresh_analytics(). Its oldest logged_at is the age of the BI data.';
COMMENT ON COLUMN analytics_changes.id IS 'Queue order.';
COMMENT ON COLUMN analytics_changes.workshop_id IS 'A serving workshop whose figures changed (NULL: none).';
COMMENT ON COLUMN analytics_changes.preferred_workshop_id IS 'A preferred workshop whose figures changed (NULL: none).';
COMMENT ON COLUMN analytics_changes.routing_type IS 'A routing type whose figures changed (NULL: none).';
COMMENT ON COLUMN analytics_changes.created_at IS 'created_at of the changed row: its UTC day is the period to recount.';
COMMENT ON COLUMN analytics_changes.logged_at IS 'When the change was made (start of its transaction).';

CREATE TABLE analytics_workshop_rollup (
    workshop_id uuid NOT NULL,
    period_grain text NOT NULL CHECK (period_grain IN ('day', 'week', 'month')),
    period_start date NOT NULL,
    sessions_served bigint NOT NULL,
    preferred_sessions bigint NOT NULL,
    preferred_requests bigint NOT NULL,
    preferred_requests_closed bigint NOT NULL,
    preferred_served_by_self bigint NOT NULL,
    revenue_minor bigint NOT NULL,
    revenue_currencies text[] NOT NULL,
    review_count bigint NOT NULL,
    rating_sum bigint NOT NULL,
    accepted_requests bigint NOT NULL,
    accept_buckets double precision[] NOT NULL,
    accept_counts integer[] NOT NULL,
    median_accept_seconds double precision,
    p90_accept_seconds double precision,
    PRIMARY KEY (workshop_id, period_grain, period_start),
    CHECK (cardinality(accept_buckets) = cardinality(accept_counts))
);
CREATE INDEX analytics_workshop_rollup_period_idx ON analytics_workshop_rollup (period_grain, period_start);
COMMENT ON TABLE analytics_workshop_rollup IS
'Per workshop and UTC period (day, ISO week, month) the figures of workshop_session_analytics, kept by '
'refresh_analytics(): days recounted from the base tables, weeks and months merged from the days.';
COMMENT ON COLUMN analytics_workshop_rollup.workshop_id IS 'The workshop (organizations.id).';
COMMENT ON COLUMN analytics_workshop_rollup.period_grain IS 'day, week or month.';
COMMENT ON COLUMN analytics_workshop_rollup.period_start IS 'First UTC day of the period.';
COMMENT ON COLUMN analytics_workshop_rollup.sessions_served IS 'See workshop_session_analytics.sessions_served.';
COMMENT ON COLUMN analytics_workshop_rollup.preferred_sessions IS 'See workshop_session_analytics.preferred_sessions.';
COMMENT ON COLUMN analytics_workshop_rollup.preferred_requests IS 'See workshop_session_analytics.preferred_requests.';
COMMENT ON COLUMN analytics_workshop_rollup.preferred_requests_closed IS
'See workshop_session_analytics.preferred_requests_closed.';
COMMENT ON COLUMN analytics_workshop_rollup.preferred_served_by_self IS
'See workshop_session_analytics.preferred_served_by_self.';
COMMENT ON COLUMN analytics_workshop_rollup.revenue_minor IS
'Sum of the amounts of the served sessions not cancelled or refunded, all currencies together (0 when none).';
COMMENT ON COLUMN analytics_workshop_rollup.revenue_currencies IS
'The lowest and highest currency of those sessions (one element when all in one currency, empty when none); two '
'elements make the view''s revenue NULL (mixed currencies).';
COMMENT ON COLUMN analytics_workshop_rollup.review_count IS 'Reviews of the sessions served in the period.';
COMMENT ON COLUMN analytics_workshop_rollup.rating_sum IS 'Sum of their stars.';
COMMENT ON COLUMN analytics_workshop_rollup.accepted_requests IS 'See workshop_session_analytics.accepted_requests.';
COMMENT ON COLUMN analytics_workshop_rollup.accept_buckets IS
'Histogram of the times to accept: bucket values (analytics_bucket of the seconds), ascending.';
COMMENT ON COLUMN analytics_workshop_rollup.accept_counts IS 'Histogram counts, one per bucket of accept_buckets.';
COMMENT ON COLUMN analytics_workshop_rollup.median_accept_seconds IS
'percentile_cont(0.5) over the histogram (each time taken as its bucket value); NULL when none.';
COMMENT ON COLUMN analytics_workshop_rollup.p90_accept_seconds IS 'percentile_cont(0.9) over the histogram.';

CREATE TABLE analytics_routing_rollup (
    routing_type text NOT NULL,
    day date NOT NULL,
    requests bigint NOT NULL,
    accepted bigint NOT NULL,
    expired bigint NOT NULL,
    cancelled bigint NOT NULL,
    pending bigint NOT NULL,
    escalated bigint NOT NULL,
    accepted_outside_preferred bigint NOT NULL,
    preferred_accepted bigint NOT NULL,
    preferred_closed bigint NOT NULL,
    median_accept_seconds double precision,
    p90_accept_seconds double precision,
    p99_accept_seconds double precision,
    PRIMARY KEY (routing_type, day)
);
CREATE INDEX analytics_routing_rollup_day_idx ON analytics_routing_rollup (day);
COMMENT ON TABLE analytics_routing_rollup IS
'Per routing type and UTC day the figures of routing_effectiveness, recounted by refresh_analytics() for the days '
'that changed.';
COMMENT ON COLUMN analytics_routing_rollup.routing_type IS 'workshop_only, hybrid or broadcast.';
COMMENT ON COLUMN analytics_routing_rollup.day IS 'UTC day on which the requests were created.';
COMMENT ON COLUMN analytics_routing_rollup.requests IS 'See routing_effectiveness.requests.';
COMMENT ON COLUMN analytics_routing_rollup.accepted IS 'See routing_effectiveness.accepted.';
COMMENT ON COLUMN analytics_routing_rollup.expired IS 'See routing_effectiveness.expired.';
COMMENT ON COLUMN analytics_routing_rollup.cancelled IS 'See routing_effectiveness.cancelled.';
COMMENT ON COLUMN analytics_routing_rollup.pending IS 'See routing_effectiveness.pending.';
COMMENT ON COLUMN analytics_routing_rollup.escalated IS 'See routing_effectiveness.escalated.';
COMMENT ON COLUMN analytics_routing_rollup.accepted_outside_preferred IS
'See routing_effectiveness.accepted_outside_preferred.';
COMMENT ON COLUMN analytics_routing_rollup.preferred_accepted IS
'Requests accepted by a mechanic of the preferred workshop (numerator of preferred_served_share).';
COMMENT ON COLUMN analytics_routing_rollup.preferred_closed IS
'Requests naming a preferred workshop, accepted or expired (denominator of preferred_served_share).';
COMMENT ON COLUMN analytics_routing_rollup.median_accept_seconds IS 'See routing_effectiveness.median_accept_seconds.';
COMMENT ON COLUMN analytics_routing_rollup.p90_accept_seconds IS 'See routing_effectiveness.p90_accept_seconds.';
COMMENT ON COLUMN analytics_routing_rollup.p99_accept_seconds IS 'See routing_effectiveness.p99_accept_seconds.';

REVOKE ALL ON analytics_changes, analytics_workshop_rollup, analytics_routing_rollup FROM PUBLIC;

-- The BI role reads the two views only (the materialized copies are gone).
COMMENT ON ROLE analytics IS
'Read-only role of BI tools: SELECT on the analytics views only (workshop_session_analytics, routing_effectiveness).';
