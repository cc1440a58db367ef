"""The staff pages (/staff): read-only views of the marketplace for support, and the two actions
support must take, each one SQL function acting for the staff member (app.staff_id): the database
checks that they are an active member of staff_members at the level needed
(ssr_private.assert_staff) and records every action in its audit (ssr_private.staff_actions).
The role staff in the token only lets the request reach these views; it grants nothing by itself.

    /staff/requests         pending requests: age, strategy, who they are offered to, who declined
    /staff/refunds          refunds pending and failed (or ?status=succeeded), with Stripe's ids;
                            Retry hands a failed one back to the refund worker (nothing here calls Stripe)
    /staff/checkouts        unresolved Checkout Sessions (?all=1 with the resolved); Resolve with a note
    /staff/reconciliation   reconciliation runs
    /staff/workshops, /staff/mechanics   and their state

The experiments page (/staff/experiments) is its own blueprint; the nav links it when registered."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.inputs import only_params, path_uuid
from app.pages import html

bp = Blueprint("staff", __name__, url_prefix="/staff")
html.html_errors(bp, always=True)
LIMIT = 100


def rows(sql: str, params: tuple) -> list[dict]:
    return call(sql, (g.principal.sub, *params), many=True, path_ids=True, acting_staff=g.principal.sub)


@bp.get("/")
@role_required("staff")
def home():
    return redirect(url_for("staff.requests"), code=303)


@bp.get("/requests")
@role_required("staff")
def requests():
    only_params()
    return render_template("staff/requests.html",
                           requests=rows("SELECT * FROM get_staff_requests(%s, %s)", (LIMIT,)), limit=LIMIT)


@bp.get("/refunds")
@role_required("staff")
def refunds():
    only_params("status")
    status = request.args.get("status") or None
    if status not in (None, "pending", "failed", "succeeded"):
        raise ApiError(400, "invalid_input", "status must be pending, failed or succeeded", "status")
    return render_template("staff/refunds.html", status=status, limit=LIMIT,
                           refunds=rows("SELECT * FROM get_staff_refunds(%s, %s, %s)", (status, LIMIT)))


@bp.post("/refunds/<refund_id>/retry")
@role_required("staff")  # with the session cookie: the form's CSRF token is checked
def retry_refund(refund_id: str):
    rid = path_uuid(refund_id, "refund_id")
    note = request.form.get("note") or None
    html.act(lambda: call("SELECT * FROM staff_retry_refund(%s, %s, %s)", (g.principal.sub, rid, note),
                          path_ids=True, acting_staff=g.principal.sub),
             "Handed back to the refund worker: it retries the refund within seconds.", "Could not retry")
    return redirect(url_for("staff.refunds"), code=303)


@bp.get("/checkouts")
@role_required("staff")
def checkouts():
    only_params("all")
    include = request.args.get("all") == "1"
    return render_template("staff/checkouts.html", include_resolved=include, limit=LIMIT,
                           checkouts=rows("SELECT * FROM get_staff_checkouts(%s, %s, %s)", (include, LIMIT)))


@bp.post("/checkouts/<cs_id>/resolve")
@role_required("staff")
def resolve_checkout(cs_id: str):
    note = request.form.get("note") or None
    html.act(lambda: call("SELECT * FROM staff_resolve_checkout(%s, %s, %s)", (g.principal.sub, cs_id, note),
                          acting_staff=g.principal.sub),
             f"{cs_id} is resolved: reconciliation stops retrying it.", "Could not resolve")
    return redirect(url_for("staff.checkouts"), code=303)


@bp.get("/reconciliation")
@role_required("staff")
def reconciliation():
    only_params()
    return render_template("staff/reconciliation.html",
                           runs=rows("SELECT * FROM get_staff_reconciliation_runs(%s, %s)", (50,)))


@bp.get("/workshops")
@role_required("staff")
def workshops():
    only_params()
    return render_template("staff/workshops.html",
                           workshops=rows("SELECT * FROM get_staff_workshops(%s, %s)", (200,)))


@bp.get("/mechanics")
@role_required("staff")
def mechanics():
    only_params()
    return render_template("staff/mechanics.html",
                           mechanics=rows("SELECT * FROM get_staff_mechanics(%s, %s)", (200,)))
