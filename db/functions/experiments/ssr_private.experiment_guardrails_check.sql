-- ssr_private.experiment_guardrails_check: stops the arms of running experiments that pass a
-- guardrail. A guardrail {metric, max, min_requests} of routing_experiments.guardrails
-- (metric expiry_rate, refund_rate, no_show_rate or cancel_rate: per request, from
-- analytics_experiment_units) stops a treatment arm (never the control) once it has
-- min_requests requests and its rate is above max: stopped_at and a stop_reason that says
-- which guardrail with the figures; its units are then routed under the control policy.
-- When every treatment arm is stopped the experiment stops too (stop_reason says so) and
-- frees its parameters. Called by refresh_experiment_results after each recount.
-- Returns the number of arms stopped. No errors.
CREATE OR REPLACE FUNCTION ssr_private.experiment_guardrails_check()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_hit record;
    v_stopped integer := 0;
BEGIN
    FOR v_hit IN
        SELECT DISTINCT ON (a.experiment_id, a.arm)
            a.experiment_id, a.arm, g.metric, g.bound, t.requests, t.rate
        FROM routing_experiments AS e
        INNER JOIN routing_experiment_arms AS a ON e.id = a.experiment_id AND NOT a.is_control AND a.stopped_at IS NULL
        CROSS JOIN LATERAL (
            SELECT
                x ->> 'metric' AS metric,
                (x ->> 'max')::double precision AS bound,
                coalesce((x ->> 'min_requests')::integer, 50) AS min_requests
            FROM jsonb_array_elements(e.guardrails) AS x
        ) AS g
        CROSS JOIN LATERAL (
            SELECT
                sum(u.requests) AS requests,
                (CASE g.metric
                    WHEN 'expiry_rate' THEN sum(u.expired)
                    WHEN 'refund_rate' THEN sum(u.refunds)
                    WHEN 'no_show_rate' THEN sum(u.no_show)
                    WHEN 'cancel_rate' THEN sum(u.cancelled)
                END)::double precision / nullif(sum(u.requests), 0) AS rate
            FROM analytics_experiment_units AS u
            WHERE u.experiment_id = a.experiment_id AND u.arm = a.arm
        ) AS t
        WHERE e.state = 'running' AND t.requests >= g.min_requests AND t.rate > g.bound
        ORDER BY a.experiment_id, a.arm, t.rate - g.bound DESC
    LOOP
        UPDATE routing_experiment_arms AS a
        SET
            stopped_at = now(),
            stop_reason = format(
                'guardrail %s > %s: %s over %s requests', v_hit.metric, v_hit.bound, round(v_hit.rate::numeric, 4),
                v_hit.requests
            )
        WHERE a.experiment_id = v_hit.experiment_id AND a.arm = v_hit.arm AND a.stopped_at IS NULL;
        v_stopped := v_stopped + 1;
        IF NOT EXISTS (
            SELECT 1 FROM routing_experiment_arms AS a
            WHERE a.experiment_id = v_hit.experiment_id AND NOT a.is_control AND a.stopped_at IS NULL
        ) THEN
            UPDATE routing_experiments AS e
            SET state = 'stopped', stopped_at = now(), stop_reason = 'every treatment arm stopped by a guardrail'
            WHERE e.id = v_hit.experiment_id AND e.state = 'running';
            DELETE FROM routing_experiment_running AS x WHERE x.experiment_id = v_hit.experiment_id;
        END IF;
    END LOOP;
    RETURN v_stopped;
END
$$;

COMMENT ON FUNCTION ssr_private.experiment_guardrails_check() IS
'Stops the treatment arms of running experiments that pass a guardrail (and the experiment when none is left).';

REVOKE ALL ON FUNCTION ssr_private.experiment_guardrails_check() FROM PUBLIC;
