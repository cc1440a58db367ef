"""Percentiles, medians of repetitions and a latency loop."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    if not values:
        raise ValueError("percentile of no values")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def summarize(latencies_s: list[float]) -> dict:
    """p50/p99/mean in milliseconds."""
    return {
        "n": len(latencies_s),
        "p50_ms": round(percentile(latencies_s, 50) * 1000, 4),
        "p99_ms": round(percentile(latencies_s, 99) * 1000, 4),
        "mean_ms": round(statistics.fmean(latencies_s) * 1000, 4),
    }


def median_of(reps: list[dict]) -> dict:
    """Median of each numeric field over repetitions; the repetitions are kept under 'reps'."""
    out: dict = {}
    for key in reps[0]:
        vals = [r[key] for r in reps if isinstance(r.get(key), int | float) and not isinstance(r.get(key), bool)]
        if len(vals) == len(reps):
            out[key] = round(statistics.median(vals), 4)
        elif all(isinstance(r.get(key), dict) for r in reps):  # e.g. CPU per process group
            inner = median_of([r[key] for r in reps])
            inner.pop("reps")
            out[key] = inner
    out["reps"] = reps
    return out


def time_calls(call: Callable[[int], object], n: int, warmup: int = 5) -> list[float]:
    """Latency of n calls (after a warm-up); call receives the iteration number."""
    for i in range(warmup):
        call(i)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - t0)
    return out


def repeat(measure: Callable[[int], dict], reps: int) -> dict:
    return median_of([measure(r) for r in range(reps)])
