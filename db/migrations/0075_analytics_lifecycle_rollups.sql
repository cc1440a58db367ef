-- 0075: the figures of the session's life after accept kept in the analytics rollups, like
-- the others (the BI views stop computing them from the history on every read).
--   * analytics_workshop_rollup gains sessions per status, refunds, declines with a
--     histogram of the seconds from offer to decline (the buckets of analytics_bucket, like
--     the times to accept), and the live and available seconds of the period.
--   * analytics_routing_rollup gains refunds, declines, declined requests, the exact median
--     time to decline and the sessions per status of the day's requests.
--   * analytics_span_days holds the closed spans (calls that ended, availability intervals
--     that ended) cut at UTC day boundaries, kept by triggers on sessions and
--     mechanic_availability (analytics_spans_trg): the day recount of refresh_analytics()
--     finds a day's seconds by (workshop, day), never by scanning the history of spans.
--     Spans still open are added by the view at read time, up to now.
-- Online: columns with constant defaults (no rewrite; the rollups are small) and a new
-- table. The rows already there keep 0 in the new columns until 0077 (after the triggers)
-- has queued every period for the job and filled analytics_span_days.

ALTER TABLE analytics_workshop_rollup
ADD COLUMN sessions_waiting bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_live bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_completed bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_no_show bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_cancelled bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_refunded bigint NOT NULL DEFAULT 0,
ADD COLUMN refunds bigint NOT NULL DEFAULT 0,
ADD COLUMN declines bigint NOT NULL DEFAULT 0,
ADD COLUMN decline_buckets double precision[] NOT NULL DEFAULT '{}',
ADD COLUMN decline_counts integer[] NOT NULL DEFAULT '{}',
ADD COLUMN median_decline_seconds double precision,
ADD COLUMN live_seconds numeric NOT NULL DEFAULT 0,
ADD COLUMN available_seconds numeric NOT NULL DEFAULT 0;

COMMENT ON COLUMN analytics_workshop_rollup.sessions_waiting IS 'See workshop_session_analytics.sessions_waiting.';
COMMENT ON COLUMN analytics_workshop_rollup.sessions_live IS 'See workshop_session_analytics.sessions_live.';
COMMENT ON COLUMN analytics_workshop_rollup.sessions_completed IS 'See workshop_session_analytics.sessions_completed.';
COMMENT ON COLUMN analytics_workshop_rollup.sessions_no_show IS 'See workshop_session_analytics.sessions_no_show.';
COMMENT ON COLUMN analytics_workshop_rollup.sessions_cancelled IS 'See workshop_session_analytics.sessions_cancelled.';
COMMENT ON COLUMN analytics_workshop_rollup.sessions_refunded IS 'See workshop_session_analytics.sessions_refunded.';
COMMENT ON COLUMN analytics_workshop_rollup.refunds IS
'Refunds (rows of refunds) of the sessions created in the period that named the workshop as preferred.';
COMMENT ON COLUMN analytics_workshop_rollup.declines IS 'See workshop_session_analytics.declines.';
COMMENT ON COLUMN analytics_workshop_rollup.decline_buckets IS
'Histogram of the seconds from offer to decline: bucket values (analytics_bucket of the seconds), ascending.';
COMMENT ON COLUMN analytics_workshop_rollup.decline_counts IS 'Histogram counts, one per bucket of decline_buckets.';
COMMENT ON COLUMN analytics_workshop_rollup.median_decline_seconds IS
'percentile_cont(0.5) over the decline histogram (each time taken as its bucket value); NULL when none.';
COMMENT ON COLUMN analytics_workshop_rollup.live_seconds IS
'Seconds of the calls that ended (sessions served by the workshop, started_at to ended_at) falling in the period. '
'Calls still live are added by the view at read time.';
COMMENT ON COLUMN analytics_workshop_rollup.available_seconds IS
'Seconds of the availability intervals of its mechanics that ended (mechanic_availability) falling in the period. '
'Intervals still open are added by the view at read time.';

ALTER TABLE analytics_routing_rollup
ADD COLUMN refunds bigint NOT NULL DEFAULT 0,
ADD COLUMN declines bigint NOT NULL DEFAULT 0,
ADD COLUMN declined_requests bigint NOT NULL DEFAULT 0,
ADD COLUMN median_decline_seconds double precision,
ADD COLUMN sessions_waiting bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_live bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_completed bigint NOT NULL DEFAULT 0,
ADD COLUMN sessions_no_show bigint NOT NULL DEFAULT 0;

COMMENT ON COLUMN analytics_routing_rollup.refunds IS 'See routing_effectiveness.refunds.';
COMMENT ON COLUMN analytics_routing_rollup.declines IS 'See routing_effectiveness.declines.';
COMMENT ON COLUMN analytics_routing_rollup.declined_requests IS 'See routing_effectiveness.declined_requests.';
COMMENT ON COLUMN analytics_routing_rollup.median_decline_seconds IS
'See routing_effectiveness.median_decline_seconds (exact: a day is recounted whole).';
COMMENT ON COLUMN analytics_routing_rollup.sessions_waiting IS 'See routing_effectiveness.sessions_waiting.';
COMMENT ON COLUMN analytics_routing_rollup.sessions_live IS 'See routing_effectiveness.sessions_live.';
COMMENT ON COLUMN analytics_routing_rollup.sessions_completed IS 'See routing_effectiveness.sessions_completed.';
COMMENT ON COLUMN analytics_routing_rollup.sessions_no_show IS 'See routing_effectiveness.sessions_no_show.';

CREATE TABLE analytics_span_days (
    source text NOT NULL CHECK (source IN ('session', 'availability')),
    source_id text NOT NULL,
    day date NOT NULL,
    workshop_id uuid NOT NULL,
    seconds numeric NOT NULL CHECK (seconds > 0 AND seconds <= 86400),
    PRIMARY KEY (source, source_id, day)
);
CREATE INDEX analytics_span_days_workshop_idx ON analytics_span_days (workshop_id, day);
COMMENT ON TABLE analytics_span_days IS
'Closed spans cut at UTC day boundaries: calls that ended (sessions.started_at to ended_at, at the serving workshop) '
'and availability intervals that ended (mechanic_availability), one row per span and day. Kept by the triggers '
'analytics_spans_* (analytics_spans_trg); read by the day recount of the analytics rollups.';
COMMENT ON COLUMN analytics_span_days.source IS 'session (a call) or availability (a mechanic available for work).';
COMMENT ON COLUMN analytics_span_days.source_id IS 'sessions.id or mechanic_availability.id, as text.';
COMMENT ON COLUMN analytics_span_days.day IS 'The UTC day of this piece of the span.';
COMMENT ON COLUMN analytics_span_days.workshop_id IS 'The serving workshop of the call, or the mechanic''s workshop.';
COMMENT ON COLUMN analytics_span_days.seconds IS 'Seconds of the span within the day (exact, microseconds).';

REVOKE ALL ON analytics_span_days FROM PUBLIC;
