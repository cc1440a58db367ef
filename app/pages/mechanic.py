"""The mechanic's dashboard: the offers this mechanic may accept now (get_mechanic_offers, the
rule of the mechanic row-level-security policy), kept live by the events stream
(/api/mechanic/events) and an Accept button. Without JavaScript the page still lists the
offers (reload to refresh) and Accept is a plain form."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for

from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.inputs import path_uuid
from app.pages import html

bp = Blueprint("mechanic_pages", __name__, url_prefix="/mechanic")
html.html_errors(bp, always=True)
LIMIT = 50


def offers() -> list[dict]:
    return call("SELECT * FROM get_mechanic_offers(%s, %s)", (g.principal.sub, LIMIT), many=True, path_ids=True,
                acting_mechanic=g.principal.sub)


@bp.get("/")
@role_required("mechanic")
def dashboard():
    return render_template("dashboard.html", offers=offers(), strategy_names=html.STRATEGY_NAMES)


@bp.get("/offers")
@role_required("mechanic")
def offers_fragment():
    """The list alone (HTML), which the page's script swaps in when an event says it changed."""
    return render_template("_offers.html", offers=offers(), strategy_names=html.STRATEGY_NAMES)


@bp.post("/requests/<request_id>/accept")
@role_required("mechanic")  # with the session cookie: the form's CSRF token is checked
def accept(request_id: str):
    rid = path_uuid(request_id, "request_id")
    try:
        call("SELECT * FROM accept_session_request(%s, %s)", (rid, g.principal.sub), path_ids=True,
             acting_mechanic=g.principal.sub)
    except ApiError as exc:
        if exc.status not in (403, 404, 409):
            raise
        flash(f"Could not accept: {exc.message}", "error")
    else:
        flash("Accepted: the customer is told you are on your way.", "success")
    return redirect(url_for("mechanic_pages.dashboard"), code=303)
