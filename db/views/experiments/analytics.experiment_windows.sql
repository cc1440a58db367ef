-- BI contract: one row per experiment, arm, randomization unit and window (switchback: the
-- window start and the group; customer: the customer, window_start NULL), the rollup
-- analytics_experiment_units with its rates: what a per-window analysis reads.
CREATE OR REPLACE VIEW analytics.experiment_windows AS
SELECT
    u.experiment_id,
    u.arm,
    u.unit_key,
    nullif(u.window_start, '-infinity') AS window_start,
    u.requests,
    u.accepted,
    round(u.accepted::numeric / nullif(u.requests, 0), 4) AS accept_rate,
    round((u.accept_seconds_sum / nullif(u.accepted, 0))::numeric, 2) AS mean_accept_seconds,
    ssr_private.experiment_hist_percentile(u.accept_buckets, u.accept_counts, 0.5) AS median_accept_seconds,
    u.expired,
    u.cancelled,
    u.refunds,
    u.refunded_minor,
    u.completed,
    u.no_show,
    u.review_count,
    round(u.rating_sum::numeric / nullif(u.review_count, 0), 3) AS avg_rating
FROM public.analytics_experiment_units AS u;

COMMENT ON VIEW analytics.experiment_windows IS
'Per routing experiment, arm, unit and window: the outcomes of its requests (switchback windows, or customers).';
SELECT ssr_private.copy_column_comments('analytics.experiment_windows', 'analytics_experiment_units');
COMMENT ON COLUMN analytics.experiment_windows.window_start IS 'Switchback window start (UTC); NULL for customer units.';
COMMENT ON COLUMN analytics.experiment_windows.accept_rate IS 'accepted / requests.';
COMMENT ON COLUMN analytics.experiment_windows.mean_accept_seconds IS 'Mean seconds from creation to accept.';
COMMENT ON COLUMN analytics.experiment_windows.median_accept_seconds IS 'p50 over the unit''s histogram.';
COMMENT ON COLUMN analytics.experiment_windows.avg_rating IS 'Mean stars of the reviews.';
GRANT SELECT ON analytics.experiment_windows TO analytics;
