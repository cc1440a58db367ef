"""The mechanic's pages. The dashboard (get_mechanic_dashboard, one call): the online/offline
switch (set_mechanic_presence, the presence the engine offers by), the offers this mechanic may
accept now (the rows of get_mechanic_offers, the rule of the mechanic row-level-security
policy), kept live by the events stream (/api/mechanic/events), with Accept and Decline (a
reason), and their open and recent sessions with Start, Complete and No-show (start_session,
complete_session, mark_session_no_show: the same functions as the API; a move the database
refuses is shown with its message). My figures (get_mechanic_figures): sessions, rating and
earnings from the ledger for a period. Without JavaScript everything works with plain forms
(reload to see new offers)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth import role_required
from app.db import call
from app.inputs import int_param, only_params, path_uuid
from app.pages import html

bp = Blueprint("mechanic_pages", __name__, url_prefix="/mechanic")
html.html_errors(bp, always=True)
LIMIT = 50
PERIODS = (7, 30, 90, 365)  # the figures' periods, in days
MOVES = {
    "start": ("SELECT * FROM start_session(%s, %s)", "Started: the session is live.", "Could not start"),
    "complete": ("SELECT * FROM complete_session(%s, %s)", "Completed: thank you. The customer can review it now.",
                 "Could not complete"),
    "no-show": ("SELECT * FROM mark_session_no_show(%s, %s)", "Marked as a no-show: your slot is free again.",
                "Could not mark it a no-show"),
}


def offers() -> list[dict]:
    return call("SELECT * FROM get_mechanic_offers(%s, %s)", (g.principal.sub, LIMIT), many=True, path_ids=True,
                acting_mechanic=g.principal.sub)


def back():
    return redirect(url_for("mechanic_pages.dashboard"), code=303)


@bp.get("/")
@role_required("mechanic")
def dashboard():
    me = call("SELECT * FROM get_mechanic_dashboard(%s)", (g.principal.sub,), path_ids=True,
              acting_mechanic=g.principal.sub)
    return render_template("dashboard.html", me=me, offers=me["offers"] if me else [],
                           sessions=me["sessions"] if me else [])


@bp.get("/offers")
@role_required("mechanic")
def offers_fragment():
    """The list alone (HTML), which the page's script swaps in when an event says it changed."""
    return render_template("_offers.html", offers=offers())


@bp.post("/requests/<request_id>/accept")
@role_required("mechanic")  # with the session cookie: the form's CSRF token is checked
def accept(request_id: str):
    rid = path_uuid(request_id, "request_id")
    html.act(lambda: call("SELECT * FROM accept_session_request(%s, %s)", (rid, g.principal.sub), path_ids=True,
                          acting_mechanic=g.principal.sub),
             "Accepted: the customer is told you are on your way.", "Could not accept")
    return back()


@bp.post("/requests/<request_id>/decline")
@role_required("mechanic")
def decline(request_id: str):
    rid = path_uuid(request_id, "request_id")
    reason = request.form.get("reason") or None
    html.act(lambda: call("SELECT * FROM decline_session_request(%s, %s, %s)", (rid, g.principal.sub, reason),
                          path_ids=True, acting_mechanic=g.principal.sub),
             "Declined: it will not be offered to you again.", "Could not decline")
    return back()


@bp.post("/presence")
@role_required("mechanic")
def presence():
    online = request.form.get("online")
    value = {"1": True, "0": False}.get(online)  # anything else: the database's SR400 (online is required)
    html.act(lambda: call("SELECT * FROM set_mechanic_presence(%s, %s)", (g.principal.sub, value), path_ids=True,
                          acting_mechanic=g.principal.sub),
             lambda row: "You are online: requests are offered to you." if row["online"]
             else "You are offline: nothing is offered to you until you go online.",
             "Could not change your status")
    return back()


def _move(session_id: str, action: str):
    sid = path_uuid(session_id, "session_id")
    sql, done, refused = MOVES[action]
    html.act(lambda: call(sql, (sid, g.principal.sub), path_ids=True, acting_mechanic=g.principal.sub), done, refused)
    return back()


@bp.post("/sessions/<session_id>/start")
@role_required("mechanic")
def start_session(session_id: str):
    return _move(session_id, "start")


@bp.post("/sessions/<session_id>/complete")
@role_required("mechanic")
def complete_session(session_id: str):
    return _move(session_id, "complete")


@bp.post("/sessions/<session_id>/no-show")
@role_required("mechanic")
def no_show(session_id: str):
    return _move(session_id, "no-show")


@bp.get("/figures")
@role_required("mechanic")
def figures():
    only_params("days")
    days = int_param("days", 30, 1, 366)
    rows = call("SELECT * FROM get_mechanic_figures(%s, %s)", (g.principal.sub, days), many=True, path_ids=True,
                acting_mechanic=g.principal.sub)
    return render_template("figures.html", rows=rows, days=days, periods=PERIODS)
