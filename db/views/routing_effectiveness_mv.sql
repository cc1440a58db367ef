-- Materialized copy of routing_effectiveness for large histories.
-- Refresh with SELECT * FROM refresh_analytics(); (REFRESH ... CONCURRENTLY on the
-- unique index below: readers are never blocked). No CREATE OR REPLACE exists for
-- materialized views: this file re-creates it when the file changes, WITH NO DATA, so the
-- schema transaction never computes it (seconds on a large history, with locks held);
-- tools/migrate.py (and the psql script) fill it right after, outside that transaction.
-- If routing_effectiveness changes its columns, change this file too.
DROP MATERIALIZED VIEW IF EXISTS routing_effectiveness_mv;
CREATE MATERIALIZED VIEW routing_effectiveness_mv AS
SELECT v.*
FROM routing_effectiveness AS v
WITH NO DATA;

CREATE UNIQUE INDEX routing_effectiveness_mv_key ON routing_effectiveness_mv (routing_type, day);
CREATE INDEX routing_effectiveness_mv_day_idx ON routing_effectiveness_mv (day);

COMMENT ON MATERIALIZED VIEW routing_effectiveness_mv IS
'Materialized routing_effectiveness (same columns); refresh with refresh_analytics(), concurrent-safe '
'(REFRESH MATERIALIZED VIEW CONCURRENTLY on the unique key routing_type, day).';
COMMENT ON COLUMN routing_effectiveness_mv.routing_type IS 'See routing_effectiveness.routing_type.';
COMMENT ON COLUMN routing_effectiveness_mv.day IS 'See routing_effectiveness.day.';
COMMENT ON COLUMN routing_effectiveness_mv.requests IS 'See routing_effectiveness.requests.';
COMMENT ON COLUMN routing_effectiveness_mv.accepted IS 'See routing_effectiveness.accepted.';
COMMENT ON COLUMN routing_effectiveness_mv.expired IS 'See routing_effectiveness.expired.';
COMMENT ON COLUMN routing_effectiveness_mv.cancelled IS 'See routing_effectiveness.cancelled.';
COMMENT ON COLUMN routing_effectiveness_mv.pending IS 'See routing_effectiveness.pending.';
COMMENT ON COLUMN routing_effectiveness_mv.escalated IS 'See routing_effectiveness.escalated.';
COMMENT ON COLUMN routing_effectiveness_mv.accepted_outside_preferred IS
'See routing_effectiveness.accepted_outside_preferred.';
COMMENT ON COLUMN routing_effectiveness_mv.median_accept_seconds IS 'See routing_effectiveness.median_accept_seconds.';
COMMENT ON COLUMN routing_effectiveness_mv.p90_accept_seconds IS 'See routing_effectiveness.p90_accept_seconds.';
COMMENT ON COLUMN routing_effectiveness_mv.p99_accept_seconds IS 'See routing_effectiveness.p99_accept_seconds.';
COMMENT ON COLUMN routing_effectiveness_mv.preferred_served_share IS 'See routing_effectiveness.preferred_served_share.';
COMMENT ON COLUMN routing_effectiveness_mv.declines IS 'See routing_effectiveness.declines.';
COMMENT ON COLUMN routing_effectiveness_mv.declined_requests IS 'See routing_effectiveness.declined_requests.';
COMMENT ON COLUMN routing_effectiveness_mv.median_decline_seconds IS 'See routing_effectiveness.median_decline_seconds.';
COMMENT ON COLUMN routing_effectiveness_mv.sessions_waiting IS 'See routing_effectiveness.sessions_waiting.';
COMMENT ON COLUMN routing_effectiveness_mv.sessions_live IS 'See routing_effectiveness.sessions_live.';
COMMENT ON COLUMN routing_effectiveness_mv.sessions_completed IS 'See routing_effectiveness.sessions_completed.';
COMMENT ON COLUMN routing_effectiveness_mv.sessions_no_show IS 'See routing_effectiveness.sessions_no_show.';

GRANT SELECT ON routing_effectiveness_mv TO analytics;
