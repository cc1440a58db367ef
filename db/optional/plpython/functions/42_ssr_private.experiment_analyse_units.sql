-- ssr_private.experiment_analyse_units: the analysis of ssr_private.experiment_analysis for
-- units given as a JSON array (objects with arm and the sums of analytics_experiment_units):
-- reads no table and is SECURITY INVOKER, so the role analytics may run it for the view
-- analytics.experiment_analysis (which reads the rollup with its owner's rights). No errors
-- beyond SR400 of experiment_stats for malformed units.
CREATE OR REPLACE FUNCTION ssr_private.experiment_analyse_units(
    p_unit text,
    p_control_arm text,
    p_units jsonb,
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
IMMUTABLE
AS $$
import json
if "ssr_experiment_stats" not in GD:
    plpy.execute("SELECT ssr_private.experiment_stats('load')")
lib = GD["ssr_experiment_stats"]
units = json.loads(p_units) if p_units else []
rows = lib["analyse"](p_unit, units, p_control_arm, p_alpha, p_tau)
keys = ("metric", "arm", "control_arm", "control_value", "arm_value", "difference", "ci_low", "ci_high",
        "std_error", "units_control", "units_arm", "p_value_always_valid", "cs_low", "cs_high", "mde")
return [tuple(r[k] for k in keys) for r in rows]
$$;

COMMENT ON FUNCTION ssr_private.experiment_analyse_units(text, text, jsonb, double precision, double precision) IS
'The experiment analysis over units given as JSON (reads nothing; for analytics.experiment_analysis).';
