-- ssr_private.routing_assignment: the routing policy a new request gets, and its experiment
-- assignment. The oldest running experiment that enrols the request's routing type decides:
--   customer unit: the arm of the customer's hash (hashtextextended of the customer id with
--     the experiment's seed, mapped to [0, 1) and cut by the arms' cumulative weights in
--     their order): the same customer always gets the same arm;
--   switchback: the window is the UTC epoch-aligned slice of window_seconds holding p_at,
--     the group 'all' (grouping marketplace) or the preferred workshop's id ('none' without
--     one); the arm is drawn from the hash of (window, group) with the seed, so every
--     request of a window and group gets the same arm and the schedule is reproducible.
-- An arm stopped by a guardrail: its units are routed under the control arm's policy and
-- not recorded (experiment_id NULL). No running experiment (an empty partial index read)
-- or none enrolling this request: the preferred workshop's own policy, else the default;
-- nothing is recorded. Inputs: the request's customer, preferred workshop, normalised
-- routing type and creation time. No errors.
CREATE OR REPLACE FUNCTION ssr_private.routing_assignment(
    p_customer_id uuid,
    p_preferred_workshop_id uuid,
    p_routing_type text,
    p_at timestamptz,
    OUT routing_policy_id bigint,
    OUT experiment_id bigint,
    OUT arm text,
    OUT unit_key text,
    OUT window_start timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_exp routing_experiments;
    v_window bigint;
    v_u double precision;
    v_stopped timestamptz;
BEGIN
    -- No running experiment (the common case): one read of the empty partial index, a plan
    -- without parameters (cached once), then the workshop's or the default policy.
    IF NOT EXISTS (SELECT FROM routing_experiments AS e WHERE e.state = 'running') THEN
        routing_policy_id := coalesce(
            (SELECT o.routing_policy_id FROM organizations AS o WHERE o.id = p_preferred_workshop_id),
            (SELECT p.id FROM routing_policies AS p WHERE p.is_default)
        );
        RETURN;
    END IF;
    SELECT * INTO v_exp
    FROM routing_experiments AS e
    WHERE e.state = 'running' AND (e.routing_types IS NULL OR p_routing_type = ANY(e.routing_types))
    ORDER BY e.id
    LIMIT 1;
    IF FOUND THEN
        IF v_exp.unit = 'customer' THEN
            unit_key := p_customer_id::text;
            window_start := '-infinity';
            v_u := ssr_private.experiment_hash_unit('c:' || unit_key, v_exp.seed);
        ELSE
            unit_key := CASE WHEN v_exp.grouping = 'marketplace' THEN 'all'
                ELSE coalesce(p_preferred_workshop_id::text, 'none') END;
            v_window := floor(extract(EPOCH FROM p_at) / v_exp.window_seconds)::bigint;
            window_start := to_timestamp(v_window * v_exp.window_seconds);
            v_u := ssr_private.experiment_hash_unit('s:' || v_window || ':' || unit_key, v_exp.seed);
        END IF;
        -- The first arm whose cumulative weight passes the draw (the last one if rounding
        -- left the sum a hair below 1).
        SELECT a.arm, a.routing_policy_id, a.stopped_at INTO arm, routing_policy_id, v_stopped
        FROM (
            SELECT
                x.arm, x.routing_policy_id, x.stopped_at, x.ordinal,
                sum(x.weight) OVER (ORDER BY x.ordinal) AS cum
            FROM routing_experiment_arms AS x WHERE x.experiment_id = v_exp.id
        ) AS a
        ORDER BY v_u < a.cum DESC, a.ordinal * CASE WHEN v_u < a.cum THEN 1 ELSE -1 END
        LIMIT 1;
        IF v_stopped IS NULL THEN
            experiment_id := v_exp.id;
            RETURN;
        END IF;
        SELECT a.routing_policy_id INTO routing_policy_id
        FROM routing_experiment_arms AS a WHERE a.experiment_id = v_exp.id AND a.is_control;
        arm := NULL;
        unit_key := NULL;
        window_start := NULL;
        RETURN;
    END IF;
    -- Experiments run, none enrols this routing type.
    routing_policy_id := coalesce(
        (SELECT o.routing_policy_id FROM organizations AS o WHERE o.id = p_preferred_workshop_id),
        (SELECT p.id FROM routing_policies AS p WHERE p.is_default)
    );
END
$$;

COMMENT ON FUNCTION ssr_private.routing_assignment(uuid, uuid, text, timestamptz) IS
'The routing policy of a new request and its experiment assignment (experiment, arm, unit, window; NULL when none).';

REVOKE ALL ON FUNCTION ssr_private.routing_assignment(uuid, uuid, text, timestamptz) FROM PUBLIC;
