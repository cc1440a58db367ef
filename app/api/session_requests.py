"""Actions on one session request: a mechanic accepts or declines it, the customer who paid cancels it."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from app.auth import role_required
from app.db import call
from app.inputs import json_object, path_uuid, text_field

bp = Blueprint("session_requests", __name__, url_prefix="/api/session-requests")


@bp.post("/<request_id>/accept")
@role_required("mechanic")
def accept_request(request_id: str):
    rid = path_uuid(request_id, "request_id")
    row = call("SELECT * FROM accept_session_request(%s, %s)", (rid, g.principal.sub), path_ids=True,
               acting_mechanic=g.principal.sub)
    return jsonify(ok=True, request=row)


@bp.post("/<request_id>/cancel")
@role_required("customer")
def cancel_request(request_id: str):
    """The customer who owns a pending request cancels it; the refund is owed in the same
    transaction (the refund worker makes it at Stripe). One winner against an accept."""
    rid = path_uuid(request_id, "request_id")
    row = call("SELECT * FROM cancel_customer_session_request(%s, %s)", (rid, g.principal.sub), path_ids=True,
               acting_customer=g.principal.sub)
    return jsonify(ok=True, request=row)


@bp.post("/<request_id>/decline")
@role_required("mechanic")
def decline_request(request_id: str):
    rid = path_uuid(request_id, "request_id")
    reason = text_field(json_object("reason", required=False), "reason")
    row = call("SELECT * FROM decline_session_request(%s, %s, %s)", (rid, g.principal.sub, reason), path_ids=True,
               acting_mechanic=g.principal.sub)
    return jsonify(ok=True, decline=row)
