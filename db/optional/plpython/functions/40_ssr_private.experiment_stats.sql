-- ssr_private.experiment_stats: the statistics of routing experiments (PL/Python, standard
-- library only: statistics.NormalDist), in one place. p_op:
--   'load'     defines the library in GD['ssr_experiment_stats'] (what experiment_analysis
--              uses) and returns {"loaded": true};
--   'analyse'  p_input {unit: customer | switchback, control: arm, alpha, tau, units: [{arm,
--              requests, accepted, ...the sums of analytics_experiment_units}]}: per metric and
--              treatment arm the estimate (see below); returns {"rows": [...]};
--   'power'    p_input {sd, units_per_arm, alpha, power} -> {"mde"}; or {sd, mde, alpha,
--              power} -> {"units_per_arm"} (two arms, equal sizes, fixed horizon);
--   'selftest' p_input {runs, seed, effect, looks}: simulated marketplaces with a planted
--              effect, analysed by this code; returns coverage and false-positive rates.
-- The estimate, per metric (a ratio num / den of the unit sums) and arm against the control:
--   switchback: the mean over windows x groups of each unit's ratio (per-window means),
--     difference of the arms' means, Welch standard error and degrees of freedom over units;
--   customer: the ratio of sums, with the cluster-robust (delta-method) variance over
--     customers, K / (K - 1) * sum (num_i - R den_i)^2 / (sum den_i)^2;
--   a 95 % (1 - alpha) confidence interval (Student t at the Welch degrees of freedom); the
--   number of units per arm; an always-valid p-value and confidence sequence (mixture
--   sequential probability ratio test, normal mixture of scale tau * the control's unit
--   standard deviation: looking at any time, as often as wanted, keeps the false-positive
--   rate at most alpha); the minimum detectable effect at 80 % power for the units so far.
-- Reads no table; SECURITY INVOKER; IMMUTABLE ('selftest' too: deterministic from its seed), so
-- the role analytics may run it for its view (db/tests/grants.sql).
-- Errors: SR400 (COLUMN op) an unknown op; SR400 (COLUMN input) bad input.
CREATE OR REPLACE FUNCTION ssr_private.experiment_stats(p_op text, p_input jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpython3u
IMMUTABLE
AS $$
import json
import math
import random
from statistics import NormalDist

N01 = NormalDist()

METRICS = [
    # name, numerator, denominator
    ("accept_rate", "accepted", "requests"),
    ("expiry_rate", "expired", "requests"),
    ("refund_rate", "refunds", "requests"),
    ("refunded_minor_per_request", "refunded_minor", "requests"),
    ("completion_rate", "completed", "requests"),
    ("no_show_rate", "no_show", "requests"),
    ("mean_accept_seconds", "accept_seconds_sum", "accepted"),
    ("avg_rating", "rating_sum", "review_count"),
]


def t_quantile(p, df):
    """Student t quantile (Hill 1970 / Abramowitz-Stegun 26.7.5 expansion); normal when df is large."""
    z = N01.inv_cdf(p)
    if df is None or df > 1e6:
        return z
    df = max(df, 1.0)
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4


def mean_var(xs):
    n = len(xs)
    if n == 0:
        return None, None
    m = math.fsum(xs) / n
    v = math.fsum((x - m) ** 2 for x in xs) / (n - 1) if n > 1 else None
    return m, v


def arm_switchback(units, num, den):
    """Per-unit ratios (units with den > 0): mean, variance of the mean, units, unit variance."""
    ys = [u[num] / u[den] for u in units if u[den]]
    m, v = mean_var(ys)
    if m is None:
        return None
    return {"value": m, "var": (v / len(ys)) if v is not None else None, "units": len(ys), "unit_var": v}


def arm_customer(units, num, den):
    """Ratio of sums with the cluster-robust (delta method) variance over units."""
    us = [u for u in units if u[den]]
    k = len(us)
    if k == 0:
        return None
    sn = math.fsum(u[num] for u in us)
    sd = math.fsum(u[den] for u in us)
    r = sn / sd
    if k < 2:
        return {"value": r, "var": None, "units": k, "unit_var": None}
    ss = math.fsum((u[num] - r * u[den]) ** 2 for u in us)
    var = k / (k - 1) * ss / sd ** 2
    return {"value": r, "var": var, "units": k, "unit_var": var * k}


def msprt(diff, var, tau2, alpha):
    """Always-valid p-value and confidence sequence of a normal mixture SPRT (Johari et al. 2017)."""
    if not var or var <= 0 or not tau2 or tau2 <= 0:
        return None, None, None
    a = var + tau2
    log_lam = 0.5 * math.log(var / a) + diff ** 2 * tau2 / (2 * var * a)
    p = 1.0 if log_lam <= 0 else min(1.0, math.exp(-log_lam))
    half = math.sqrt(var * a / tau2 * (2 * math.log(1 / alpha) + math.log(a / var)))
    return p, diff - half, diff + half


def compare(unit, control, treat, alpha=0.05, tau=0.25, power=0.8):
    if control is None or treat is None:
        return None
    diff = treat["value"] - control["value"]
    row = {
        "control_value": control["value"], "arm_value": treat["value"], "difference": diff,
        "units_control": control["units"], "units_arm": treat["units"],
        "ci_low": None, "ci_high": None, "std_error": None, "df": None,
        "p_value_always_valid": None, "cs_low": None, "cs_high": None, "mde": None,
    }
    if control["var"] is None or treat["var"] is None:
        return row
    var = control["var"] + treat["var"]
    if unit == "switchback":
        vc, vt = control["var"], treat["var"]
        nc, nt = control["units"], treat["units"]
        den = (vc ** 2 / (nc - 1) if nc > 1 else 0) + (vt ** 2 / (nt - 1) if nt > 1 else 0)
        df = var ** 2 / den if den > 0 else None
    else:
        df = control["units"] + treat["units"] - 2
    q = t_quantile(1 - alpha / 2, df)
    se = math.sqrt(var)
    row.update({"std_error": se, "df": df, "ci_low": diff - q * se, "ci_high": diff + q * se})
    sigma2 = control["unit_var"] or 0
    p, lo, hi = msprt(diff, var, (tau ** 2) * sigma2, alpha)
    row.update({"p_value_always_valid": p, "cs_low": lo, "cs_high": hi})
    row["mde"] = (N01.inv_cdf(1 - alpha / 2) + N01.inv_cdf(power)) * se
    return row


def analyse(unit, units, control_arm, alpha=0.05, tau=0.25, metrics=None):
    by_arm = {}
    for u in units:
        by_arm.setdefault(u["arm"], []).append(u)
    est = arm_switchback if unit == "switchback" else arm_customer
    rows = []
    for name, num, den in METRICS:
        if metrics and name not in metrics:
            continue
        c = est(by_arm.get(control_arm, []), num, den)
        for arm in sorted(by_arm):
            if arm == control_arm:
                continue
            row = compare(unit, c, est(by_arm[arm], num, den), alpha, tau)
            if row is not None:
                row.update({"metric": name, "arm": arm, "control_arm": control_arm})
                rows.append(row)
    return rows


def power_calc(sd, alpha=0.05, power=0.8, units_per_arm=None, mde=None):
    z = N01.inv_cdf(1 - alpha / 2) + N01.inv_cdf(power)
    if units_per_arm:
        return {"mde": z * sd * math.sqrt(2.0 / units_per_arm)}
    return {"units_per_arm": math.ceil(2 * (z * sd / mde) ** 2)}


def simulate_units(rng, unit, n_units, effect, arms=("control", "treatment")):
    """A synthetic marketplace: per unit (a switchback window with an hour-of-day base rate, or
    a customer with a random propensity) Poisson requests, accepted with the unit's probability,
    plus `effect` on the treatment arm. Returns units with requests and accepted."""
    units = []
    for i in range(n_units):
        arm = arms[rng.random() < 0.5]
        if unit == "switchback":
            hour = i % 24
            base = 0.55 + 0.2 * math.sin(hour / 24 * 2 * math.pi) + rng.gauss(0, 0.05)
            lam = 6 + 10 * (1 + math.sin((hour - 6) / 24 * 2 * math.pi))
        else:
            base = min(0.85, max(0.15, rng.gauss(0.55, 0.15)))
            lam = rng.choice((1, 1, 1, 2, 2, 3, 5, 8))
        p = min(0.98, max(0.02, base)) + (effect if arm == "treatment" else 0)
        n = 0
        # Poisson by inversion (small means)
        limit, prod = math.exp(-lam), rng.random()
        while prod > limit:
            n += 1
            prod *= rng.random()
        acc = sum(1 for _ in range(n) if rng.random() < p)
        units.append({"arm": arm, "requests": n, "accepted": acc})
    return units


def selftest(runs=400, seed=1, effect=0.05, looks=14, unit_sizes=None, alpha=0.05):
    rng = random.Random(seed)
    out = {}
    sizes = unit_sizes or {"switchback": 240, "customer": 2000}
    for unit, n_units in sizes.items():
        covered = 0
        for _ in range(runs):
            r = analyse(unit, simulate_units(rng, unit, n_units, effect), "control", alpha, metrics=["accept_rate"])[0]
            covered += r["ci_low"] <= effect <= r["ci_high"]
        # No effect, peeking after each of `looks` equal batches ("daily").
        fp_seq = fp_naive = 0
        for _ in range(runs):
            data, hit_seq, hit_naive = [], False, False
            for _look in range(looks):
                data += simulate_units(rng, unit, n_units // looks, 0.0)
                r = analyse(unit, data, "control", alpha, metrics=["accept_rate"])
                if not r or r[0]["ci_low"] is None:
                    continue
                r = r[0]
                hit_seq = hit_seq or r["p_value_always_valid"] <= alpha
                hit_naive = hit_naive or not (r["ci_low"] <= 0 <= r["ci_high"])
            fp_seq += hit_seq
            fp_naive += hit_naive
        out[unit] = {
            "runs": runs, "units": n_units, "effect": effect, "coverage": covered / runs,
            "looks": looks, "false_positive_rate_always_valid": fp_seq / runs,
            "false_positive_rate_naive_peeking": fp_naive / runs,
        }
    return out


LIB = {
    "analyse": analyse, "power": power_calc, "selftest": selftest, "t_quantile": t_quantile,
    "METRICS": METRICS, "simulate_units": simulate_units,
}
GD["ssr_experiment_stats"] = LIB

args = json.loads(p_input) if p_input else {}
if not isinstance(args, dict):
    plpy.error("input must be a JSON object", sqlstate="SR400")
try:
    if p_op == "load":
        return json.dumps({"loaded": True})
    if p_op == "analyse":
        rows = analyse(args["unit"], args["units"], args["control"], float(args.get("alpha", 0.05)),
                       float(args.get("tau", 0.25)))
        return json.dumps({"rows": rows})
    if p_op == "power":
        return json.dumps(power_calc(float(args["sd"]), float(args.get("alpha", 0.05)), float(args.get("power", 0.8)),
                                     args.get("units_per_arm"), args.get("mde")))
    if p_op == "selftest":
        sizes = args.get("unit_sizes")
        return json.dumps(selftest(int(args.get("runs", 400)), int(args.get("seed", 1)),
                                   float(args.get("effect", 0.05)), int(args.get("looks", 14)), sizes,
                                   float(args.get("alpha", 0.05))))
except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
    plpy.error("bad input for %s: %s" % (p_op, e), sqlstate="SR400")
plpy.error("unknown op %r (load, analyse, power, selftest)" % p_op, sqlstate="SR400")
$$;

COMMENT ON FUNCTION ssr_private.experiment_stats(text, jsonb) IS
'Statistics of routing experiments (PL/Python, stdlib): analyse units, power / MDE, a simulation self-test.';
