"""The staff experiments pages: every routing experiment with its arms, state, guardrails and
results (get_routing_experiments), one experiment with its analysis (get_routing_experiment:
the 95 % intervals drawn as a server-rendered SVG chart, no script), and Start / Stop forms
(start_routing_experiment / stop_routing_experiment). One SQL call per page and action, acting
for the signed-in staff member; the database decides who may do what (support reads, admin
starts and stops: SR403 otherwise, shown as the 403 page)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.pages import html

bp = Blueprint("experiments_pages", __name__, url_prefix="/staff/experiments")
html.html_errors(bp, always=True)

MAX_ID = 2**63 - 1
METRIC_NAMES = {
    "accept_rate": ("Accept rate", "rate"),
    "expiry_rate": ("Expiry rate", "rate"),
    "refund_rate": ("Refund rate", "rate"),
    "refunded_minor_per_request": ("Refunded per request (minor units)", "number"),
    "completion_rate": ("Sessions completed", "rate"),
    "no_show_rate": ("No-show rate", "rate"),
    "mean_accept_seconds": ("Mean seconds to accept", "seconds"),
    "avg_rating": ("Average rating", "number"),
}
# The chart: one row per metric, each on its own scale centred on "no difference" (0).
CHART_W, ROW_H, PAD = 320, 34, 12


def experiment_id_of(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise ApiError(404, "not_found", f"experiment {value[:40]}: no such experiment", "experiment_id")
    return int(value)


def fmt(value, kind: str) -> str:
    if value is None:
        return "\N{EN DASH}"
    if kind == "rate":
        return f"{value * 100:+.1f} pp" if abs(value) < 10 else f"{value:+.3g}"
    if kind == "seconds":
        return f"{value:+.1f} s"
    return f"{value:+.3g}"


def interval_chart(rows: list[dict]) -> dict:
    """The geometry of the intervals chart (SVG user units): per row the 95 % interval, the
    always-valid confidence sequence, the point estimate and the zero line, each row scaled to
    its own widest bound so that the intervals of rates and of seconds can share one picture."""
    inner = CHART_W - 2 * PAD
    out = []
    for i, r in enumerate(rows):
        name, kind = METRIC_NAMES.get(r["metric"], (r["metric"], "number"))
        bounds = [abs(v) for v in (r.get("ci_low"), r.get("ci_high"), r.get("cs_low"), r.get("cs_high"),
                                   r.get("difference")) if v is not None]
        span = max(bounds, default=0) or 1.0

        def x(v, span=span):
            return round(PAD + inner * (0.5 + 0.5 * v / (span * 1.08)), 1)

        y = i * ROW_H + 22
        row = {"name": name, "y": y, "label_y": y - 9, "zero": x(0), "arm": r["arm"],
               "difference": fmt(r.get("difference"), kind),
               "ci": f"{fmt(r.get('ci_low'), kind)} to {fmt(r.get('ci_high'), kind)}"
               if r.get("ci_low") is not None else "\N{EN DASH}",
               "p": r.get("p_value_always_valid"), "units": (r.get("units_control"), r.get("units_arm"))}
        if r.get("ci_low") is not None and r.get("ci_high") is not None:
            row["ci_x1"], row["ci_x2"] = x(r["ci_low"]), x(r["ci_high"])
            row["tone"] = "clear" if r["ci_low"] > 0 or r["ci_high"] < 0 else "flat"
        else:
            row["tone"] = "flat"
        if r.get("cs_low") is not None and r.get("cs_high") is not None:
            row["cs_x1"], row["cs_x2"] = x(r["cs_low"]), x(r["cs_high"])
        if r.get("difference") is not None:
            row["dx"] = x(r["difference"])
        out.append(row)
    return {"rows": out, "width": CHART_W, "height": max(len(out), 1) * ROW_H + 8, "pad": PAD}


@bp.get("/")
@role_required("staff")
def index():
    row = call("SELECT get_routing_experiments(%s) AS experiments", (g.principal.sub,), acting_staff=g.principal.sub)
    return render_template("experiments/index.html", experiments=row["experiments"], metric_names=METRIC_NAMES)


@bp.get("/<experiment_id>")
@role_required("staff")
def show(experiment_id: str):
    eid = experiment_id_of(experiment_id)
    row = call("SELECT get_routing_experiment(%s, %s) AS experiment", (g.principal.sub, eid), path_ids=True,
               acting_staff=g.principal.sub)
    exp = row["experiment"]
    charts = {}
    for a in exp.get("analysis") or []:
        charts.setdefault(a["arm"], []).append(a)
    charts = {arm: interval_chart(rows) for arm, rows in charts.items()}
    return render_template("experiments/show.html", e=exp, charts=charts)


def act(experiment_id: str, sql: str, params: tuple, done: str):
    """Start or stop: a 403 (not an admin) or 404 is the error page; a conflict (not a draft,
    a parameter busy) or bad input goes back to the experiment with the database's message."""
    eid = experiment_id_of(experiment_id)
    try:
        call(sql, (g.principal.sub, eid, *params), path_ids=True, acting_staff=g.principal.sub)
    except ApiError as exc:
        if exc.status not in (400, 409):
            raise
        flash(f"Refused: {exc.message}", "error")
    else:
        flash(done, "success")
    return redirect(url_for("experiments_pages.show", experiment_id=eid), code=303)


@bp.post("/<experiment_id>/start")
@role_required("staff")  # with the session cookie: the form's CSRF token is checked
def start(experiment_id: str):
    return act(experiment_id, "SELECT id FROM start_routing_experiment(%s, %s)", (),
               "Started: new requests are assigned to its arms.")


@bp.post("/<experiment_id>/stop")
@role_required("staff")
def stop(experiment_id: str):
    reason = request.form.get("reason", "").strip() or None
    return act(experiment_id, "SELECT id FROM stop_routing_experiment(%s, %s, %s)", (reason,),
               "Stopped: new requests are routed as without it; its results stay.")
