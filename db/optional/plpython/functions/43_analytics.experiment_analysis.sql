-- analytics.experiment_analysis: for BI (role analytics), the analysis of every routing
-- experiment that has results (the analysis of ssr_private.experiment_analysis at alpha 0.05,
-- through ssr_private.experiment_analyse_units, which reads nothing). Part of the
-- optional PL/Python layer: absent where PL/Python is (the rollup views
-- analytics.experiment_results and analytics.experiment_windows stay). No inputs, no errors.
CREATE OR REPLACE VIEW analytics.experiment_analysis AS
SELECT
    e.id AS experiment_id,
    e.name AS experiment_name,
    e.unit,
    a.metric,
    a.arm,
    a.control_arm,
    a.control_value,
    a.arm_value,
    a.difference,
    a.ci_low,
    a.ci_high,
    a.std_error,
    a.units_control,
    a.units_arm,
    a.p_value_always_valid,
    a.cs_low,
    a.cs_high,
    a.mde
FROM public.routing_experiments AS e
CROSS JOIN
    LATERAL ( -- noqa: ST05
        SELECT
            (SELECT c.arm FROM public.routing_experiment_arms AS c WHERE c.experiment_id = e.id AND c.is_control) AS control,
            (
                SELECT
                    jsonb_agg(jsonb_build_object(
                        'arm', u.arm, 'requests', u.requests, 'accepted', u.accepted,
                        'accept_seconds_sum', u.accept_seconds_sum, 'expired', u.expired, 'refunds', u.refunds,
                        'refunded_minor', u.refunded_minor, 'completed', u.completed, 'no_show', u.no_show,
                        'review_count', u.review_count, 'rating_sum', u.rating_sum
                    ))
                FROM public.analytics_experiment_units AS u WHERE u.experiment_id = e.id
            ) AS units
    ) AS x
CROSS JOIN LATERAL ssr_private.experiment_analyse_units(e.unit, x.control, x.units) AS a
WHERE e.state <> 'draft';

COMMENT ON VIEW analytics.experiment_analysis IS
'Per routing experiment, metric and treatment arm: difference to control with a 95 % CI at the randomization unit, '
'always-valid p-value and confidence sequence (optional PL/Python layer).';
COMMENT ON COLUMN analytics.experiment_analysis.experiment_id IS 'The experiment.';
COMMENT ON COLUMN analytics.experiment_analysis.experiment_name IS 'Its name.';
COMMENT ON COLUMN analytics.experiment_analysis.unit IS 'customer (cluster-robust) or switchback (per-window means).';
COMMENT ON COLUMN analytics.experiment_analysis.metric IS
'accept_rate, expiry_rate, refund_rate, refunded_minor_per_request, completion_rate, no_show_rate, '
'mean_accept_seconds, avg_rating.';
COMMENT ON COLUMN analytics.experiment_analysis.arm IS 'The treatment arm.';
COMMENT ON COLUMN analytics.experiment_analysis.control_arm IS 'The control arm.';
COMMENT ON COLUMN analytics.experiment_analysis.control_value IS 'The metric in the control.';
COMMENT ON COLUMN analytics.experiment_analysis.arm_value IS 'The metric in the arm.';
COMMENT ON COLUMN analytics.experiment_analysis.difference IS 'arm_value - control_value.';
COMMENT ON COLUMN analytics.experiment_analysis.ci_low IS '95 % confidence interval, low end (fixed horizon).';
COMMENT ON COLUMN analytics.experiment_analysis.ci_high IS '95 % confidence interval, high end.';
COMMENT ON COLUMN analytics.experiment_analysis.std_error IS 'Standard error of the difference at the unit.';
COMMENT ON COLUMN analytics.experiment_analysis.units_control IS 'Units of the control with data for the metric.';
COMMENT ON COLUMN analytics.experiment_analysis.units_arm IS 'Units of the arm with data for the metric.';
COMMENT ON COLUMN analytics.experiment_analysis.p_value_always_valid IS
'Always-valid p-value (mixture SPRT): may be read at every look.';
COMMENT ON COLUMN analytics.experiment_analysis.cs_low IS '95 % confidence sequence, low end (valid at every look).';
COMMENT ON COLUMN analytics.experiment_analysis.cs_high IS '95 % confidence sequence, high end.';
COMMENT ON COLUMN analytics.experiment_analysis.mde IS 'Minimum detectable effect at 80 % power with the units so far.';
GRANT SELECT ON analytics.experiment_analysis TO analytics;
