"""A synthetic marketplace to show why routing experiments that change shared supply are
randomized by switchback, not by customer (`make simulate`; Python standard library only).

Model (7 simulated days per run, event by event): hybrid requests arrive by a Poisson process
whose rate follows the hour of the day, near the mechanics' capacity at the peaks (24 mechanics:
8 workshops of 2 and 8 independents, capacity 1, sessions of 20 minutes on average: 72 an hour;
arrivals peak at ~77 an hour); each prefers one workshop; every mechanic looks at the offers at
the moments of a Poisson process (mean gap 20 s) and, when idle, takes the OLDEST request offered
to him (his workshop's during its hybrid window, anyone's after it); a request expires after the
open_wait_seconds of its policy. Policy A: expiry 30 minutes; policy B: expiry 10 minutes (the
same 60 s window). A supply-sharing change: under B, requests that waited long give up and
leave the mechanics to the others; in a per-customer split the patient A requests, older at the
head of the one queue, take the mechanics first and B's requests expire for them.

The arrivals, session lengths and the mechanics' looks are drawn once per day and shared by every
design (common random numbers). Per run: the global effect (everyone under B minus everyone under
A), the per-customer split estimate (each customer hashed to A or B) and two switchback estimates
(arm drawn per window, marketplace-wide: 1-hour windows; 2-hour windows whose first 30 minutes
are left out, the burn-in), B minus A over the requests of each arm. Over the runs: the mean
estimate, its bias against the same run's global effect (with its standard error), the spread
(sd), RMSE. Writes docs/experiments_simulation.md (table) and docs/experiments_simulation.svg
(plot).

    python -m bench.simulate_experiments [--runs 30] [--days 7] [--seed 1] [--out docs]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from pathlib import Path

DAY = 86400
WORKSHOPS = 8
PER_WORKSHOP = 2
INDEPENDENTS = 8
ACCEPT_MEAN = 20.0
SESSION_MEAN = 1200.0
PEAK_PER_HOUR = 110.0
# The two policies: the hybrid window and the expiry (open_wait_seconds) of their requests.
POLICIES = {"A": {"window": 60, "expiry": 1800}, "B": {"window": 60, "expiry": 600}}
EXPIRY = max(p["expiry"] for p in POLICIES.values())


def hourly_rate(hour: int) -> float:
    """Requests per hour: quiet at night, two peaks (late morning, evening)."""
    shape = 0.15 + 0.55 * math.exp(-((hour - 11) ** 2) / 8) + 0.45 * math.exp(-((hour - 19) ** 2) / 6)
    return PEAK_PER_HOUR * min(1.0, shape)


def arrivals(rng: random.Random) -> list[tuple[int, int, int, float]]:
    """(time, preferred workshop, customer, session length) for one day; the session length is
    drawn here, once per request, so that every design sees the same one (common random numbers)."""
    out, t = [], 0.0
    while True:
        rate = hourly_rate(int(t // 3600) % 24) / 3600
        t += rng.expovariate(rate)
        if t >= DAY:
            return out
        out.append((int(t), rng.randrange(WORKSHOPS), rng.randrange(10**9), rng.expovariate(1 / SESSION_MEAN)))


def attention(rng: random.Random) -> list[tuple[float, int]]:
    """(time, mechanic) of every moment a mechanic looks at the offers (a Poisson process of mean
    gap ACCEPT_MEAN each), sorted; drawn once per day and shared by every design."""
    out = []
    for m in range(WORKSHOPS * PER_WORKSHOP + INDEPENDENTS):
        t = rng.expovariate(1 / ACCEPT_MEAN)
        while t < DAY + EXPIRY:
            out.append((t, m))
            t += rng.expovariate(1 / ACCEPT_MEAN)
    out.sort()
    return out


def run_day(looks, reqs, arm_of) -> list[dict]:
    """Simulates one day (event by event: arrivals and the mechanics' looks); arm_of(i, t, customer)
    gives each request's arm. An idle mechanic who looks takes the oldest request offered to him
    (his workshop's during their exclusive window, anyone's after it) and is busy for its session.
    Returns one dict per request."""
    mech_ws = [w for w in range(WORKSHOPS) for _ in range(PER_WORKSHOP)] + [None] * INDEPENDENTS
    busy_until = [0.0] * len(mech_ws)
    pending: list[dict] = []
    done: list[dict] = []
    nxt = 0
    for now, m in looks:
        while nxt < len(reqs) and reqs[nxt][0] <= now:
            t, ws, cust, length = reqs[nxt]
            arm = arm_of(nxt, t, cust)
            idle_pref = any(busy_until[k] <= t and mech_ws[k] == ws for k in range(len(mech_ws)))
            pol = POLICIES[arm]
            pending.append({"t": t, "ws": ws, "arm": arm, "len": length, "end": t + pol["expiry"],
                            "excl": t + pol["window"] if idle_pref else t, "acc": None, "pref": False})
            nxt += 1
        if busy_until[m] > now or not pending:
            continue
        if now >= pending[0]["end"] or now >= pending[-1]["end"] or nxt % 16 == 0:  # expire the overdue
            keep = []
            for r in pending:
                (done if now >= r["end"] else keep).append(r)
            pending = keep
            if not pending:
                continue
        mine = mech_ws[m]
        for k, r in enumerate(pending):
            if now >= r["excl"] or mine == r["ws"]:
                r["acc"], r["pref"] = now, mine == r["ws"]
                busy_until[m] = now + r["len"]
                done.append(pending.pop(k))
                break
    return done + pending


def metrics(rows) -> dict[str, float]:
    acc = [r for r in rows if r["acc"] is not None]
    return {
        "accept_seconds": statistics.fmean(r["acc"] - r["t"] for r in acc) if acc else float("nan"),
        "expiry_rate": 1 - len(acc) / len(rows) if rows else float("nan"),
        "preferred_share": sum(r["pref"] for r in acc) / len(acc) if acc else float("nan"),
    }


# The switchback designs: window length and burn-in (the first seconds of each window left out of
# the estimate: the queue left by the previous window's arm is still being served then).
SWITCHBACKS = {"switchback_1h": (3600, 0), "switchback_2h_burn_in_30m": (7200, 1800)}
METRICS = ("expiry_rate", "accept_seconds")
DESIGNS = ("customer_split", *SWITCHBACKS)


def switchback_estimate(rows, metric: str, burn: int) -> float:
    """B minus A over the requests of each arm's windows (weighted by requests, like the global
    effect; past the burn-in of each window)."""
    kept = [r for r in rows if r["t"] - r["w_start"] >= burn]
    by_arm = {arm: metrics([r for r in kept if r["arm"] == arm])[metric] for arm in "AB"}
    return by_arm["B"] - by_arm["A"]


def one_run(seed: int, days: int = 7) -> dict[str, dict[str, float]]:
    """One experiment of `days` days: the same arrivals and mechanics (common random numbers) under
    everyone-A, everyone-B, the per-customer split and each switchback schedule (the arm drawn
    per window, marketplace-wide)."""
    rows: dict[str, list[dict]] = {"A": [], "B": [], "split": []} | {k: [] for k in SWITCHBACKS}
    split_rng = random.Random(seed * 7 + 2)
    split_arm: dict[int, str] = {}
    sb_rng = random.Random(seed * 7 + 3)
    for day in range(days):
        rng = random.Random(seed * 1000 + day)
        reqs = arrivals(rng)
        looks = attention(rng)
        for c in (c for _t, _w, c, _len in reqs):
            split_arm.setdefault(c, split_rng.choice("AB"))
        for arm in "AB":
            rows[arm] += run_day(looks, reqs, lambda i, t, c, a=arm: a)
        rows["split"] += run_day(looks, reqs, lambda i, t, c: split_arm[c])
        for name, (width, _burn) in SWITCHBACKS.items():
            sched = [sb_rng.choice("AB") for _ in range(DAY // width)]
            sb = run_day(looks, reqs, lambda i, t, c, s=sched, w=width: s[t // w])
            for r in sb:
                r["window"], r["w_start"] = (day, r["t"] // width), r["t"] // width * width
            rows[name] += sb
    out = {}
    glob = {arm: metrics(rows[arm]) for arm in "AB"}
    for metric in METRICS:
        ms = {arm: metrics([r for r in rows["split"] if r["arm"] == arm])[metric] for arm in "AB"}
        out[metric] = {"global": glob["B"][metric] - glob["A"][metric], "customer_split": ms["B"] - ms["A"]}
        for name, (_width, burn) in SWITCHBACKS.items():
            out[metric][name] = switchback_estimate(rows[name], metric, burn)
    return out


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for metric in runs[0]:
        gte = statistics.fmean(r[metric]["global"] for r in runs)
        for design in DESIGNS:
            est = [r[metric][design] for r in runs]
            err = [r[metric][design] - r[metric]["global"] for r in runs]
            rows.append({
                "metric": metric, "design": design, "global_effect": gte, "mean_estimate": statistics.fmean(est),
                "bias": statistics.fmean(err), "sd": statistics.stdev(est),
                "rmse": math.sqrt(statistics.fmean(e * e for e in err)),
                "bias_se": statistics.stdev(err) / math.sqrt(len(err)),
                "global_sd": statistics.stdev(r[metric]["global"] for r in runs),
            })
    return rows


def write_table(rows, runs: int, days: int, seconds: float, path: Path) -> None:
    pa, pb = POLICIES["A"], POLICIES["B"]
    lines = [
        "# Simulated marketplace: per-customer split against switchback",
        "",
        f"Written by `make simulate` (`python -m bench.simulate_experiments --runs {runs} --days {days}`): {runs} "
        f"experiments of {days} simulated days each; {seconds:.0f} s of CPU. Supply-constrained marketplace (arrivals "
        f"near the mechanics' capacity at the peak hours; the model in `bench/simulate_experiments.py`). Policy A: "
        f"expiry {pa['expiry'] // 60} min, policy B: expiry {pb['expiry'] // 60} min (both a {pa['window']} s "
        "hybrid window). Effect = B minus A. Global effect: everyone under B minus everyone under A (the same "
        "arrivals and mechanics). Bias = mean of (estimate - the same run's global effect), with its standard "
        "error; sd = the spread of the estimate over the runs.",
        "",
        "| metric | design | global effect (sd) | mean estimate | bias (± se) | bias / global | sd | RMSE |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rel = r["bias"] / r["global_effect"] if r["global_effect"] else float("nan")
        lines.append(
            f"| {r['metric']} | {r['design']} | {r['global_effect']:.4f} ({r['global_sd']:.4f}) | "
            f"{r['mean_estimate']:.4f} | {r['bias']:+.4f} (± {r['bias_se']:.4f}) | {rel:+.0%} | {r['sd']:.4f} | "
            f"{r['rmse']:.4f} |"
        )
    lines += ["", "![bias of the designs](experiments_simulation.svg)", ""]
    path.write_text("\n".join(lines))


def write_svg(rows, path: Path) -> None:
    """One panel per metric: the global effect (dashed line), each design's mean estimate (dot) +- 2 se
    (dark bar: is it biased?) and +- 1 sd (light bar: how far one experiment may land)."""
    metrics_ = list(dict.fromkeys(r["metric"] for r in rows))
    w, h, pad = 330, 220, 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(metrics_)}" height="{h + 40}" '
             'font-family="sans-serif" font-size="11">']
    for i, m in enumerate(metrics_):
        rs = [r for r in rows if r["metric"] == m]
        vals = [r["global_effect"] for r in rs] + [r["mean_estimate"] + s * r["sd"] for r in rs for s in (-1, 1)]
        lo, hi = min(*vals, 0), max(*vals, 0)
        span = (hi - lo) or 1
        lo, hi = lo - 0.1 * span, hi + 0.1 * span

        def y(v, lo=lo, hi=hi):
            return pad + (hi - v) / (hi - lo) * (h - 2 * pad)
        x0 = i * w
        parts.append(f'<text x="{x0 + w / 2}" y="16" text-anchor="middle" font-weight="bold">{m}</text>')
        parts.append(f'<line x1="{x0 + 30}" x2="{x0 + w - 10}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#bbb"/>')
        g = rs[0]["global_effect"]
        parts.append(f'<line x1="{x0 + 30}" x2="{x0 + w - 10}" y1="{y(g):.1f}" y2="{y(g):.1f}" '
                     'stroke="#333" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x0 + w - 10}" y="{y(g) - 4:.1f}" text-anchor="end">global {g:.3g}</text>')
        for j, r in enumerate(rs):
            cx = x0 + 75 + j * 100
            color = "#c0392b" if r["design"] == "customer_split" else "#2471a3"
            # the spread of one experiment's estimate (sd over the runs): a light bar behind
            stop, sbot = y(r["mean_estimate"] + r["sd"]), y(r["mean_estimate"] - r["sd"])
            parts.append(f'<line x1="{cx}" x2="{cx}" y1="{stop:.1f}" y2="{sbot:.1f}" stroke="{color}" '
                         'stroke-opacity="0.25" stroke-width="10"/>')
            top, bot = y(r["mean_estimate"] + 2 * r["bias_se"]), y(r["mean_estimate"] - 2 * r["bias_se"])
            parts.append(f'<line x1="{cx}" x2="{cx}" y1="{top:.1f}" y2="{bot:.1f}" stroke="{color}" stroke-width="2"/>')
            parts.append(f'<circle cx="{cx}" cy="{y(r["mean_estimate"]):.1f}" r="4" fill="{color}"/>')
            label = {"customer_split": "per customer", "switchback_1h": "switchback 1 h",
                     "switchback_2h_burn_in_30m": "2 h + burn-in"}.get(r["design"], r["design"])
            parts.append(f'<text x="{cx}" y="{h + 10}" text-anchor="middle">{label}</text>')
            parts.append(f'<text x="{cx}" y="{h + 24}" text-anchor="middle">bias {r["bias"]:+.3g}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="docs")
    a = ap.parse_args(argv)
    t0 = time.process_time()
    runs = [one_run(a.seed + k, a.days) for k in range(a.runs)]
    rows = summarise(runs)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, a.runs, a.days, time.process_time() - t0, out / "experiments_simulation.md")
    write_svg(rows, out / "experiments_simulation.svg")
    print((out / "experiments_simulation.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
