"""A session's life after accept: the accepting mechanic starts it, completes it or marks it
no-show; its customer then reviews it once."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from app.auth import role_required
from app.db import call
from app.inputs import int_field, json_object, path_uuid, text_field

bp = Blueprint("sessions", __name__, url_prefix="/api/sessions")

MOVES = {
    "start": "SELECT * FROM start_session(%s, %s)",
    "complete": "SELECT * FROM complete_session(%s, %s)",
    "no-show": "SELECT * FROM mark_session_no_show(%s, %s)",
}


def _move(session_id: str, action: str):
    sid = path_uuid(session_id, "session_id")
    row = call(MOVES[action], (sid, g.principal.sub), path_ids=True, acting_mechanic=g.principal.sub)
    return jsonify(ok=True, session=row)


@bp.post("/<session_id>/start")
@role_required("mechanic")
def start_session(session_id: str):
    return _move(session_id, "start")


@bp.post("/<session_id>/complete")
@role_required("mechanic")
def complete_session(session_id: str):
    return _move(session_id, "complete")


@bp.post("/<session_id>/no-show")
@role_required("mechanic")
def mark_no_show(session_id: str):
    return _move(session_id, "no-show")


@bp.post("/<session_id>/review")
@role_required("customer")
def review_session(session_id: str):
    sid = path_uuid(session_id, "session_id")
    body = json_object("rating", "comment")
    rating = int_field(body, "rating")
    comment = text_field(body, "comment")
    row = call("SELECT * FROM review_session(%s, %s, %s, %s)", (sid, g.principal.sub, rating, comment), path_ids=True,
               acting_customer=g.principal.sub)
    return jsonify(ok=True, review=row)
