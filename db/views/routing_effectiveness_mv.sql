-- Materialized copy of routing_effectiveness for large histories.
-- Refresh with SELECT * FROM refresh_analytics(); (REFRESH ... CONCURRENTLY on the
-- unique index below: readers are never blocked). No CREATE OR REPLACE exists for
-- materialized views: this file re-creates it when the file changes, WITH NO DATA, so the
-- schema transaction never computes it (seconds on a large history, with locks held);
-- tools/migrate.py (and the psql script) fill it right after, outside that transaction.
-- If routing_effectiveness changes its columns, change this file too.
DROP MATERIALIZED VIEW IF EXISTS analytics.routing_effectiveness_mv;
CREATE MATERIALIZED VIEW analytics.routing_effectiveness_mv AS
SELECT v.*
FROM analytics.routing_effectiveness AS v
WITH NO DATA;

CREATE UNIQUE INDEX routing_effectiveness_mv_key ON analytics.routing_effectiveness_mv (routing_type, day);
CREATE INDEX routing_effectiveness_mv_day_idx ON analytics.routing_effectiveness_mv (day);

COMMENT ON MATERIALIZED VIEW analytics.routing_effectiveness_mv IS
'Materialized analytics.routing_effectiveness (same columns); refresh with refresh_analytics(), concurrent-safe '
'(REFRESH MATERIALIZED VIEW CONCURRENTLY on the unique key routing_type, day).';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.routing_type IS 'See analytics.routing_effectiveness.routing_type.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.day IS 'See analytics.routing_effectiveness.day.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.requests IS 'See analytics.routing_effectiveness.requests.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.accepted IS 'See analytics.routing_effectiveness.accepted.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.expired IS 'See analytics.routing_effectiveness.expired.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.cancelled IS 'See analytics.routing_effectiveness.cancelled.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.pending IS 'See analytics.routing_effectiveness.pending.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.escalated IS 'See analytics.routing_effectiveness.escalated.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.accepted_outside_preferred IS
'See analytics.routing_effectiveness.accepted_outside_preferred.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.median_accept_seconds IS 'See analytics.routing_effectiveness.median_accept_seconds.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.p90_accept_seconds IS 'See analytics.routing_effectiveness.p90_accept_seconds.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.p99_accept_seconds IS 'See analytics.routing_effectiveness.p99_accept_seconds.';
COMMENT ON COLUMN analytics.routing_effectiveness_mv.preferred_served_share IS 'See analytics.routing_effectiveness.preferred_served_share.';

GRANT SELECT ON analytics.routing_effectiveness_mv TO analytics;
