-- BI contract: the outcomes of each arm of each routing experiment, from the per-unit rollup
-- analytics_experiment_units (kept by ssr_private.refresh_experiment_results: a read costs
-- the units, never the requests). One row per (experiment_id, arm). Times to accept: mean
-- (exact), p50 and p90 over the merged histograms (within 0.5 %). Rates per request.
CREATE OR REPLACE VIEW analytics.experiment_results AS
WITH merged AS (
    SELECT
        h.experiment_id,
        h.arm,
        array_agg(h.bucket ORDER BY h.bucket) AS buckets,
        array_agg(h.n ORDER BY h.bucket) AS counts
    FROM (
        SELECT
            u.experiment_id,
            u.arm,
            b.bucket,
            sum(b.n)::integer AS n
        FROM public.analytics_experiment_units AS u
        CROSS JOIN LATERAL unnest(u.accept_buckets, u.accept_counts) AS b (bucket, n)
        GROUP BY u.experiment_id, u.arm, b.bucket
    ) AS h
    GROUP BY h.experiment_id, h.arm
),

sums AS (
    SELECT
        u.experiment_id,
        u.arm,
        count(*) AS units,
        sum(u.requests) AS requests,
        sum(u.accepted) AS accepted,
        sum(u.accept_seconds_sum) AS accept_seconds_sum,
        sum(u.expired) AS expired,
        sum(u.cancelled) AS cancelled,
        sum(u.refunds) AS refunds,
        sum(u.refunded_minor) AS refunded_minor,
        sum(u.completed) AS completed,
        sum(u.no_show) AS no_show,
        sum(u.review_count) AS review_count,
        sum(u.rating_sum) AS rating_sum
    FROM public.analytics_experiment_units AS u
    GROUP BY u.experiment_id, u.arm
)

SELECT
    e.id AS experiment_id,
    e.name AS experiment_name,
    e.state,
    e.unit,
    a.arm,
    a.is_control,
    a.weight,
    a.routing_policy_id,
    a.overrides,
    a.stopped_at AS arm_stopped_at,
    a.stop_reason AS arm_stop_reason,
    coalesce(s.units, 0) AS units,
    coalesce(s.requests, 0) AS requests,
    coalesce(s.accepted, 0) AS accepted,
    round(s.accepted::numeric / nullif(s.requests, 0), 4) AS accept_rate,
    round((s.accept_seconds_sum / nullif(s.accepted, 0))::numeric, 2) AS mean_accept_seconds,
    ssr_private.experiment_hist_percentile(m.buckets, m.counts, 0.5) AS median_accept_seconds,
    ssr_private.experiment_hist_percentile(m.buckets, m.counts, 0.9) AS p90_accept_seconds,
    coalesce(s.expired, 0) AS expired,
    round(s.expired::numeric / nullif(s.requests, 0), 4) AS expiry_rate,
    coalesce(s.cancelled, 0) AS cancelled,
    coalesce(s.refunds, 0) AS refunds,
    round(s.refunds::numeric / nullif(s.requests, 0), 4) AS refund_rate,
    coalesce(s.refunded_minor, 0) AS refunded_minor,
    coalesce(s.completed, 0) AS completed,
    coalesce(s.no_show, 0) AS no_show,
    round(s.no_show::numeric / nullif(s.requests, 0), 4) AS no_show_rate,
    coalesce(s.review_count, 0) AS review_count,
    round(s.rating_sum::numeric / nullif(s.review_count, 0), 3) AS avg_rating
FROM public.routing_experiments AS e
INNER JOIN public.routing_experiment_arms AS a ON e.id = a.experiment_id
LEFT JOIN sums AS s ON a.experiment_id = s.experiment_id AND a.arm = s.arm
LEFT JOIN merged AS m ON a.experiment_id = m.experiment_id AND a.arm = m.arm;

COMMENT ON VIEW analytics.experiment_results IS
'Per routing experiment and arm: requests, accepted, times to accept (mean, p50, p90), expired, refunds, sessions '
'completed and no-show, rating; from the incremental per-unit rollup.';
SELECT ssr_private.copy_column_comments('analytics.experiment_results', 'analytics_experiment_units');
COMMENT ON COLUMN analytics.experiment_results.experiment_id IS 'The experiment (routing_experiments.id).';
COMMENT ON COLUMN analytics.experiment_results.experiment_name IS 'Its name.';
COMMENT ON COLUMN analytics.experiment_results.state IS 'draft, running or stopped.';
COMMENT ON COLUMN analytics.experiment_results.unit IS 'customer or switchback.';
COMMENT ON COLUMN analytics.experiment_results.arm IS 'The arm.';
COMMENT ON COLUMN analytics.experiment_results.is_control IS 'TRUE for the control arm.';
COMMENT ON COLUMN analytics.experiment_results.weight IS 'Its share of the units.';
COMMENT ON COLUMN analytics.experiment_results.routing_policy_id IS 'The routing policy of the arm.';
COMMENT ON COLUMN analytics.experiment_results.overrides IS 'The parameters the arm sets.';
COMMENT ON COLUMN analytics.experiment_results.arm_stopped_at IS 'When a guardrail stopped the arm.';
COMMENT ON COLUMN analytics.experiment_results.arm_stop_reason IS 'Which guardrail, with the figures.';
COMMENT ON COLUMN analytics.experiment_results.units IS 'Randomization units with requests (customers, or windows x groups).';
COMMENT ON COLUMN analytics.experiment_results.accept_rate IS 'accepted / requests.';
COMMENT ON COLUMN analytics.experiment_results.mean_accept_seconds IS 'Mean seconds from creation to accept.';
COMMENT ON COLUMN analytics.experiment_results.median_accept_seconds IS 'p50 over the merged histogram.';
COMMENT ON COLUMN analytics.experiment_results.p90_accept_seconds IS 'p90 over the merged histogram.';
COMMENT ON COLUMN analytics.experiment_results.expiry_rate IS 'expired / requests.';
COMMENT ON COLUMN analytics.experiment_results.refund_rate IS 'refunds / requests.';
COMMENT ON COLUMN analytics.experiment_results.no_show_rate IS 'no_show / requests.';
COMMENT ON COLUMN analytics.experiment_results.avg_rating IS 'Mean stars of the reviews.';
GRANT SELECT ON analytics.experiment_results TO analytics;
