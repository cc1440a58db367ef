-- ssr_private.experiment_analysis: the analysis of one routing experiment at its
-- randomization unit, per metric and treatment arm against the control (the statistics of
-- ssr_private.experiment_stats: per-window means for switchback, cluster-robust for customer
-- hashing; a 1 - alpha confidence interval, units, an always-valid p-value and confidence
-- sequence, the minimum detectable effect at 80 % power). Reads the per-unit rollup
-- analytics_experiment_units (one pass, by cursor): its cost grows with the units, not the
-- requests. Owner only (get_routing_experiment calls it); BI reads the view
-- analytics.experiment_analysis, which passes the units to ssr_private.experiment_analyse_units
-- (reads nothing). Errors: SR404 unknown experiment.
CREATE OR REPLACE FUNCTION ssr_private.experiment_analysis(
    p_experiment_id bigint,
    p_alpha double precision DEFAULT 0.05,
    p_tau double precision DEFAULT 0.25
) RETURNS TABLE (
    metric text,
    arm text,
    control_arm text,
    control_value double precision,
    arm_value double precision,
    difference double precision,
    ci_low double precision,
    ci_high double precision,
    std_error double precision,
    units_control integer,
    units_arm integer,
    p_value_always_valid double precision,
    cs_low double precision,
    cs_high double precision,
    mde double precision
)
LANGUAGE plpython3u
STABLE
SET search_path = public, pg_temp
AS $$
if "ssr_experiment_stats" not in GD:
    plpy.execute("SELECT ssr_private.experiment_stats('load')")
lib = GD["ssr_experiment_stats"]
plan = plpy.prepare(
    "SELECT e.unit, a.arm AS control FROM routing_experiments AS e "
    "LEFT JOIN routing_experiment_arms AS a ON a.experiment_id = e.id AND a.is_control WHERE e.id = $1",
    ["bigint"],
)
head = plpy.execute(plan, [p_experiment_id])
if not head:
    plpy.error("experiment %s: no such experiment" % p_experiment_id, sqlstate="SR404")
unit, control = head[0]["unit"], head[0]["control"]
cols = ("arm", "requests", "accepted", "accept_seconds_sum", "expired", "refunds", "refunded_minor",
        "completed", "no_show", "review_count", "rating_sum")
q = plpy.prepare("SELECT %s FROM analytics_experiment_units WHERE experiment_id = $1" % ", ".join(cols), ["bigint"])
units = []
for row in plpy.cursor(q, [p_experiment_id]):
    units.append({c: (row[c] if c == "arm" else float(row[c])) for c in cols})
rows = lib["analyse"](unit, units, control, p_alpha, p_tau)
keys = ("metric", "arm", "control_arm", "control_value", "arm_value", "difference", "ci_low", "ci_high",
        "std_error", "units_control", "units_arm", "p_value_always_valid", "cs_low", "cs_high", "mde")
return [tuple(r[k] for k in keys) for r in rows]
$$;

COMMENT ON FUNCTION ssr_private.experiment_analysis(bigint, double precision, double precision) IS
'Per metric and treatment arm of a routing experiment: difference to control, CI at the randomization unit, '
'always-valid p-value and confidence sequence, MDE (optional PL/Python layer).';
