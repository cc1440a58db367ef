"""The ranking's and the eligibility's reads: GET /api/mechanic/reliability, the authenticated
mechanic's own figures and rank score (get_mechanic_reliability), for their dashboard; and
GET /api/session-requests/<id>/queue, the customer's place in line and estimated wait
(get_request_queue_position), which the success page polls beside the checkout status."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from app.auth import role_required
from app.db import call
from app.inputs import only_params, path_uuid

bp = Blueprint("ranking", __name__)


@bp.get("/api/mechanic/reliability")
@role_required("mechanic")
def mechanic_reliability():
    only_params()
    row = call("SELECT * FROM get_mechanic_reliability(%s)", (g.principal.sub,), path_ids=True,
               acting_mechanic=g.principal.sub)
    return jsonify(ok=True, reliability=row)


@bp.get("/api/session-requests/<request_id>/queue")
@role_required("customer")
def request_queue(request_id: str):
    only_params()
    rid = path_uuid(request_id, "request_id")
    row = call("SELECT * FROM get_request_queue_position(%s, %s)", (rid, g.principal.sub), path_ids=True,
               acting_customer=g.principal.sub)
    return jsonify(ok=True, queue=row)
