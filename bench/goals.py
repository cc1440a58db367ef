"""The goals, read against the figures of a run: `evaluate(results)` gives one row per goal
(goal, figure, met yes / no / not measured) for bench/results.json and the printed table.

A goal is data: what is wanted, how to read its figure from the results, a comparison and a
target, and the scale it is stated at (a figure from another scale is read against it too, and
labelled so). To add one, append a Goal to GOALS (or call `add`) next to the measurement it
reads; nothing else needs to change.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}


@dataclass(frozen=True)
class Goal:
    goal: str  # what is wanted, in words
    read: Callable[[dict], float | None]  # the figure, from the results (None: not measured)
    op: str  # one of OPS
    target: float
    unit: str = ""  # "x" (a ratio), "ms", "changes/s", ...
    scale: float | None = None  # the data scale the goal is stated at (None: any)

    def check(self, value: float) -> bool:
        return OPS[self.op](value, self.target)


def at(*path: str) -> Callable[[dict], float | None]:
    """A reader of results["figures"][path[0]][path[1]]...: None where any step is missing."""
    def read(results: dict):
        v = results.get("figures")
        for key in path:
            if not isinstance(v, dict):
                return None
            v = v.get(key)
        return v if isinstance(v, int | float) and not isinstance(v, bool) else None
    return read


def _fmt(v: float, unit: str) -> str:
    if unit == "x":
        return f"{v:.2f} x"
    if abs(v) >= 1000:
        return f"{v:,.0f} {unit}".strip()
    return f"{v:.3g} {unit}".strip()


GOALS: list[Goal] = [
    Goal("fulfillment >= 0.8 x tpcb-like at 8 clients", at("fulfill_curve", "clients", "8", "ratio"), ">=", 0.8,
         "x", scale=1),
    Goal("fulfillment >= 0.7 x tpcb-like at 16 clients", at("fulfill_curve", "clients", "16", "ratio"), ">=", 0.7,
         "x", scale=1),
    Goal("fulfillment p99 < 10 ms at 8 clients", at("fulfill_curve", "clients", "8", "fulfill", "p99_ms"), "<", 10,
         "ms", scale=1),
    Goal("fulfillment p99 < 10 ms at 16 clients", at("fulfill_curve", "clients", "16", "fulfill", "p99_ms"), "<", 10,
         "ms", scale=1),
    Goal("webhooks >= 0.85 x the reference handler's rate", at("e2e_webhooks", "reference", "rate_ratio"), ">=", 0.85,
         "x"),
    Goal("webhooks p99 <= 1.2 x the reference handler's", at("e2e_webhooks", "reference", "p99_ratio"), "<=", 1.2, "x"),
]


def add(goal: Goal) -> Goal:
    GOALS.append(goal)
    return goal


def evaluate(results: dict, goals: list[Goal] | None = None) -> list[dict]:
    scale = (results.get("settings") or {}).get("scale")
    rows = []
    for g in GOALS if goals is None else goals:
        try:
            value = g.read(results)
        except Exception as exc:  # a reader must not lose the run's results
            value, note = None, f"cannot read: {exc}"
        else:
            note = ""
        row = {"goal": g.goal, "op": g.op, "target": g.target, "unit": g.unit, "goal_scale": g.scale,
               "figure": value, "figure_text": "-" if value is None else _fmt(value, g.unit),
               "met": "not measured" if value is None else ("yes" if g.check(value) else "no")}
        if value is not None and g.scale is not None and scale is not None and scale != g.scale:
            note = f"stated at scale {g.scale:g}, measured at {scale:g}: provisional"
        row["note"] = note
        rows.append(row)
    return rows


def render(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = ["", "Goals, read against this run's figures", "", "| goal | figure | met | note |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['goal']} | {r['figure_text']} | {r['met']} | {r['note'] or ''} |")
    return out
