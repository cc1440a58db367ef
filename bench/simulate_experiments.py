"""A synthetic marketplace to show why routing experiments that change shared supply are
randomized by switchback, not by customer (`make simulate`; Python standard library only).

Model (7 simulated days per run, 5-second steps): hybrid requests arrive by a Poisson process
whose rate follows the hour of the day; each prefers one of the workshops; mechanics (3 per
workshop plus independents, capacity 1) take an offered request after an exponential delay
(mean 40 s) and are then busy for an exponential session (mean 15 min); a request is exclusive
to its preferred workshop for the hybrid window of its policy (none when nobody there is idle,
as in the engine), then open to everyone; it expires after 30 minutes. Policy A: window 30 s,
policy B: window 120 s (a supply-sharing change: a longer window holds requests back from the
shared pool of outsiders, so the requests of the other arm see more supply).

Per run: the global treatment effect (everyone under B minus everyone under A, with the same
arrivals), the per-customer split estimate (each request's customer hashed to A or B) and the
switchback estimate (one-hour windows, marketplace-wide, the arm drawn per window; difference of
per-window means). Over the runs: mean estimate, bias against the global effect, spread, RMSE.
Writes docs/experiments_simulation.md (table) and docs/experiments_simulation.svg (plot).

    python -m bench.simulate_experiments [--runs 40] [--seed 1] [--out docs]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from pathlib import Path

STEP = 5
DAY = 86400
WORKSHOPS = 6
PER_WORKSHOP = 3
INDEPENDENTS = 6
ACCEPT_MEAN = 40.0
SESSION_MEAN = 900.0
EXPIRY = 1800
PEAK_PER_HOUR = 140.0
WINDOWS = {"A": 30, "B": 120}


def hourly_rate(hour: int) -> float:
    """Requests per hour: quiet at night, two peaks (late morning, evening)."""
    shape = 0.15 + 0.55 * math.exp(-((hour - 11) ** 2) / 8) + 0.45 * math.exp(-((hour - 19) ** 2) / 6)
    return PEAK_PER_HOUR * min(1.0, shape)


def arrivals(rng: random.Random) -> list[tuple[int, int, int]]:
    """(time, preferred workshop, customer) for one day."""
    out, t = [], 0.0
    while True:
        rate = hourly_rate(int(t // 3600) % 24) / 3600
        t += rng.expovariate(rate)
        if t >= DAY:
            return out
        out.append((int(t), rng.randrange(WORKSHOPS), rng.randrange(10**9)))


def run_day(rng: random.Random, reqs, arm_of) -> list[dict]:
    """Simulates one day; arm_of(i, t, customer) gives each request's arm. Returns one dict per request."""
    mech_ws = [w for w in range(WORKSHOPS) for _ in range(PER_WORKSHOP)] + [None] * INDEPENDENTS
    busy_until = [0] * len(mech_ws)
    p_take = STEP / ACCEPT_MEAN
    pending: list[dict] = []
    done: list[dict] = []
    nxt = 0
    for now in range(0, DAY + EXPIRY, STEP):
        while nxt < len(reqs) and reqs[nxt][0] <= now:
            t, ws, cust = reqs[nxt]
            arm = arm_of(nxt, t, cust)
            idle_pref = any(busy_until[m] <= now and mech_ws[m] == ws for m in range(len(mech_ws)))
            pending.append({"t": t, "ws": ws, "arm": arm,
                            "excl": t + WINDOWS[arm] if idle_pref else t, "acc": None, "pref": False})
            nxt += 1
        if not pending:
            continue
        idle = [m for m in range(len(mech_ws)) if busy_until[m] <= now]
        rng.shuffle(idle)
        for m in idle:
            if rng.random() >= p_take:
                continue
            for r in pending:  # oldest first, among the requests offered to this mechanic
                if r["acc"] is None and (now >= r["excl"] or mech_ws[m] == r["ws"]):
                    r["acc"], r["pref"] = now, mech_ws[m] == r["ws"]
                    busy_until[m] = now + int(rng.expovariate(1 / SESSION_MEAN))
                    break
        keep = []
        for r in pending:
            if r["acc"] is not None or now - r["t"] >= EXPIRY:
                done.append(r)
            else:
                keep.append(r)
        pending = keep
    return done


def metrics(rows) -> dict[str, float]:
    acc = [r for r in rows if r["acc"] is not None]
    return {
        "accept_seconds": statistics.fmean(r["acc"] - r["t"] for r in acc) if acc else float("nan"),
        "expiry_rate": 1 - len(acc) / len(rows) if rows else float("nan"),
        "preferred_share": sum(r["pref"] for r in acc) / len(acc) if acc else float("nan"),
    }


def switchback_estimate(rows, metric: str) -> float:
    by_window: dict[tuple[int, str], list[dict]] = {}
    for r in rows:
        by_window.setdefault((r["t_window"], r["arm"]), []).append(r)
    means = {"A": [], "B": []}
    for (_w, arm), rs in by_window.items():
        v = metrics(rs)[metric]
        if not math.isnan(v):
            means[arm].append(v)
    return statistics.fmean(means["B"]) - statistics.fmean(means["A"])


def one_run(seed: int, days: int = 7) -> dict[str, dict[str, float]]:
    """One experiment of `days` days: the same arrivals under everyone-A, everyone-B, the
    per-customer split and the switchback schedule (one-hour windows, arm drawn per window)."""
    rows = {"A": [], "B": [], "split": [], "switchback": []}
    split_rng = random.Random(seed * 7 + 2)
    split_arm: dict[int, str] = {}
    sb_rng = random.Random(seed * 7 + 3)
    for day in range(days):
        rng = random.Random(seed * 1000 + day)
        reqs = arrivals(rng)
        for c in (c for _t, _w, c in reqs):
            split_arm.setdefault(c, split_rng.choice("AB"))
        sb_arm = [sb_rng.choice("AB") for _ in range(24)]
        mech = seed * 1000 + day + 500_000
        for arm in "AB":
            rows[arm] += run_day(random.Random(mech), reqs, lambda i, t, c, a=arm: a)
        rows["split"] += run_day(random.Random(mech), reqs, lambda i, t, c: split_arm[c])
        sb = run_day(random.Random(mech), reqs, lambda i, t, c, s=sb_arm: s[t // 3600])
        for r in sb:
            r["t_window"] = day * 24 + r["t"] // 3600
        rows["switchback"] += sb
    out = {}
    glob = {arm: metrics(rows[arm]) for arm in "AB"}
    for metric in ("accept_seconds", "expiry_rate", "preferred_share"):
        ms = {arm: metrics([r for r in rows["split"] if r["arm"] == arm])[metric] for arm in "AB"}
        out[metric] = {
            "global": glob["B"][metric] - glob["A"][metric],
            "customer_split": ms["B"] - ms["A"],
            "switchback": switchback_estimate(rows["switchback"], metric),
        }
    return out


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for metric in runs[0]:
        gte = statistics.fmean(r[metric]["global"] for r in runs)
        for design in ("customer_split", "switchback"):
            est = [r[metric][design] for r in runs]
            err = [r[metric][design] - r[metric]["global"] for r in runs]
            rows.append({
                "metric": metric, "design": design, "global_effect": gte, "mean_estimate": statistics.fmean(est),
                "bias": statistics.fmean(err), "sd": statistics.stdev(est),
                "rmse": math.sqrt(statistics.fmean(e * e for e in err)),
                "bias_se": statistics.stdev(err) / math.sqrt(len(err)),
            })
    return rows


def write_table(rows, runs: int, seconds: float, path: Path) -> None:
    lines = [
        "# Simulated marketplace: per-customer split against switchback",
        "",
        f"Written by `make simulate` (`python -m bench.simulate_experiments --runs {runs}`): {runs} experiments of",
        "7 simulated days each (168 switchback windows),",
        f"policy A hybrid window {WINDOWS['A']} s, policy B {WINDOWS['B']} s; {seconds:.0f} s of CPU. "
        "Effect = B minus A. Global effect: everyone under B minus everyone under A (same arrivals, same mechanics' draws).",
        "Bias = mean of (estimate - that day's global effect), with its standard error.",
        "",
        "| metric | design | global effect | mean estimate | bias (± se) | sd | RMSE |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['metric']} | {r['design']} | {r['global_effect']:.4f} | {r['mean_estimate']:.4f} | "
            f"{r['bias']:+.4f} (± {r['bias_se']:.4f}) | {r['sd']:.4f} | {r['rmse']:.4f} |"
        )
    lines += ["", "![bias of the designs](experiments_simulation.svg)", ""]
    path.write_text("\n".join(lines))


def write_svg(rows, path: Path) -> None:
    """One panel per metric: the global effect (line) and each design's mean estimate +- 2 se (dots)."""
    metrics_ = list(dict.fromkeys(r["metric"] for r in rows))
    w, h, pad = 240, 220, 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(metrics_)}" height="{h + 40}" '
             'font-family="sans-serif" font-size="11">']
    for i, m in enumerate(metrics_):
        rs = [r for r in rows if r["metric"] == m]
        vals = [r["global_effect"] for r in rs] + [r["mean_estimate"] + s * 2 * r["bias_se"] for r in rs for s in (-1, 1)]
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
            cx = x0 + 70 + j * 100
            color = "#c0392b" if r["design"] == "customer_split" else "#2471a3"
            top, bot = y(r["mean_estimate"] + 2 * r["bias_se"]), y(r["mean_estimate"] - 2 * r["bias_se"])
            parts.append(f'<line x1="{cx}" x2="{cx}" y1="{top:.1f}" y2="{bot:.1f}" stroke="{color}" stroke-width="2"/>')
            parts.append(f'<circle cx="{cx}" cy="{y(r["mean_estimate"]):.1f}" r="4" fill="{color}"/>')
            parts.append(f'<text x="{cx}" y="{h + 10}" text-anchor="middle">{r["design"].replace("_", " ")}</text>')
            parts.append(f'<text x="{cx}" y="{h + 24}" text-anchor="middle">bias {r["bias"]:+.3g}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="docs")
    a = ap.parse_args(argv)
    t0 = time.process_time()
    runs = [one_run(a.seed + k) for k in range(a.runs)]
    rows = summarise(runs)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, a.runs, time.process_time() - t0, out / "experiments_simulation.md")
    write_svg(rows, out / "experiments_simulation.svg")
    print((out / "experiments_simulation.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
