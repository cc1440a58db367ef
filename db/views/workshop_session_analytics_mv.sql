-- Materialized copy of workshop_session_analytics for large histories.
-- Refresh with SELECT * FROM refresh_analytics(); (REFRESH ... CONCURRENTLY: readers
-- are never blocked; needs the unique index below). A materialized view has no
-- CREATE OR REPLACE: this file re-creates it when it changes (the runner applies it
-- again only then), WITH NO DATA, so the schema transaction never computes it (seconds
-- on a large history, with locks held); tools/migrate.py (and the psql script) fill it
-- right after, outside that transaction.
-- If workshop_session_analytics changes its columns, change this file too (the
-- new view file will need a DROP of this one first).
DROP MATERIALIZED VIEW IF EXISTS workshop_session_analytics_mv;
CREATE MATERIALIZED VIEW workshop_session_analytics_mv AS
SELECT v.*
FROM workshop_session_analytics AS v
WITH NO DATA;

CREATE UNIQUE INDEX workshop_session_analytics_mv_key
ON workshop_session_analytics_mv (workshop_id, period_grain, period_start);
CREATE INDEX workshop_session_analytics_mv_period_idx
ON workshop_session_analytics_mv (period_grain, period_start);

COMMENT ON MATERIALIZED VIEW workshop_session_analytics_mv IS
'Materialized workshop_session_analytics (same columns); refresh with refresh_analytics(), '
'concurrent-safe (REFRESH MATERIALIZED VIEW CONCURRENTLY on the unique key workshop_id, period_grain, period_start).';
COMMENT ON COLUMN workshop_session_analytics_mv.workshop_id IS 'See workshop_session_analytics.workshop_id.';
COMMENT ON COLUMN workshop_session_analytics_mv.workshop_name IS 'See workshop_session_analytics.workshop_name.';
COMMENT ON COLUMN workshop_session_analytics_mv.period_grain IS 'See workshop_session_analytics.period_grain.';
COMMENT ON COLUMN workshop_session_analytics_mv.period_start IS 'See workshop_session_analytics.period_start.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_served IS 'See workshop_session_analytics.sessions_served.';
COMMENT ON COLUMN workshop_session_analytics_mv.preferred_sessions IS 'See workshop_session_analytics.preferred_sessions.';
COMMENT ON COLUMN workshop_session_analytics_mv.preferred_requests IS 'See workshop_session_analytics.preferred_requests.';
COMMENT ON COLUMN workshop_session_analytics_mv.preferred_requests_closed IS
'See workshop_session_analytics.preferred_requests_closed.';
COMMENT ON COLUMN workshop_session_analytics_mv.preferred_served_by_self IS
'See workshop_session_analytics.preferred_served_by_self.';
COMMENT ON COLUMN workshop_session_analytics_mv.preferred_self_serve_share IS
'See workshop_session_analytics.preferred_self_serve_share.';
COMMENT ON COLUMN workshop_session_analytics_mv.revenue_minor IS 'See workshop_session_analytics.revenue_minor.';
COMMENT ON COLUMN workshop_session_analytics_mv.revenue_currency IS 'See workshop_session_analytics.revenue_currency.';
COMMENT ON COLUMN workshop_session_analytics_mv.review_count IS 'See workshop_session_analytics.review_count.';
COMMENT ON COLUMN workshop_session_analytics_mv.avg_rating IS 'See workshop_session_analytics.avg_rating.';
COMMENT ON COLUMN workshop_session_analytics_mv.accepted_requests IS 'See workshop_session_analytics.accepted_requests.';
COMMENT ON COLUMN workshop_session_analytics_mv.median_accept_seconds IS
'See workshop_session_analytics.median_accept_seconds.';
COMMENT ON COLUMN workshop_session_analytics_mv.p90_accept_seconds IS 'See workshop_session_analytics.p90_accept_seconds.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_waiting IS 'See workshop_session_analytics.sessions_waiting.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_live IS 'See workshop_session_analytics.sessions_live.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_completed IS 'See workshop_session_analytics.sessions_completed.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_no_show IS 'See workshop_session_analytics.sessions_no_show.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_cancelled IS 'See workshop_session_analytics.sessions_cancelled.';
COMMENT ON COLUMN workshop_session_analytics_mv.sessions_refunded IS 'See workshop_session_analytics.sessions_refunded.';
COMMENT ON COLUMN workshop_session_analytics_mv.declines IS 'See workshop_session_analytics.declines.';
COMMENT ON COLUMN workshop_session_analytics_mv.median_decline_seconds IS 'See workshop_session_analytics.median_decline_seconds.';
COMMENT ON COLUMN workshop_session_analytics_mv.live_minutes IS 'See workshop_session_analytics.live_minutes.';
COMMENT ON COLUMN workshop_session_analytics_mv.available_minutes IS 'See workshop_session_analytics.available_minutes.';
COMMENT ON COLUMN workshop_session_analytics_mv.utilisation IS 'See workshop_session_analytics.utilisation.';

GRANT SELECT ON workshop_session_analytics_mv TO analytics;
