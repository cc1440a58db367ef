-- Materialized copy of workshop_session_analytics for large histories.
-- Refresh with SELECT * FROM refresh_analytics(); (REFRESH ... CONCURRENTLY: readers
-- are never blocked; needs the unique index below). A materialized view has no
-- CREATE OR REPLACE: this file re-creates it when it changes (the runner applies it
-- again only then), WITH NO DATA, so the schema transaction never computes it (seconds
-- on a large history, with locks held); tools/migrate.py (and the psql script) fill it
-- right after, outside that transaction.
-- If workshop_session_analytics changes its columns, change this file too (the
-- new view file will need a DROP of this one first).
DROP MATERIALIZED VIEW IF EXISTS analytics.workshop_session_analytics_mv;
CREATE MATERIALIZED VIEW analytics.workshop_session_analytics_mv AS
SELECT v.*
FROM analytics.workshop_session_analytics AS v
WITH NO DATA;

CREATE UNIQUE INDEX workshop_session_analytics_mv_key
ON analytics.workshop_session_analytics_mv (workshop_id, period_grain, period_start);
CREATE INDEX workshop_session_analytics_mv_period_idx
ON analytics.workshop_session_analytics_mv (period_grain, period_start);

COMMENT ON MATERIALIZED VIEW analytics.workshop_session_analytics_mv IS
'Materialized analytics.workshop_session_analytics (same columns); refresh with refresh_analytics(), '
'concurrent-safe (REFRESH MATERIALIZED VIEW CONCURRENTLY on the unique key workshop_id, period_grain, period_start).';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.workshop_id IS 'See analytics.workshop_session_analytics.workshop_id.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.workshop_name IS 'See analytics.workshop_session_analytics.workshop_name.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.period_grain IS 'See analytics.workshop_session_analytics.period_grain.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.period_start IS 'See analytics.workshop_session_analytics.period_start.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.sessions_served IS 'See analytics.workshop_session_analytics.sessions_served.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.preferred_sessions IS 'See analytics.workshop_session_analytics.preferred_sessions.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.preferred_requests IS 'See analytics.workshop_session_analytics.preferred_requests.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.preferred_requests_closed IS
'See analytics.workshop_session_analytics.preferred_requests_closed.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.preferred_served_by_self IS
'See analytics.workshop_session_analytics.preferred_served_by_self.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.preferred_self_serve_share IS
'See analytics.workshop_session_analytics.preferred_self_serve_share.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.revenue_minor IS 'See analytics.workshop_session_analytics.revenue_minor.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.revenue_currency IS 'See analytics.workshop_session_analytics.revenue_currency.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.review_count IS 'See analytics.workshop_session_analytics.review_count.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.avg_rating IS 'See analytics.workshop_session_analytics.avg_rating.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.accepted_requests IS 'See analytics.workshop_session_analytics.accepted_requests.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.median_accept_seconds IS
'See analytics.workshop_session_analytics.median_accept_seconds.';
COMMENT ON COLUMN analytics.workshop_session_analytics_mv.p90_accept_seconds IS 'See analytics.workshop_session_analytics.p90_accept_seconds.';

GRANT SELECT ON analytics.workshop_session_analytics_mv TO analytics;
