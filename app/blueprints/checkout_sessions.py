"""Checkout for clients that are not pages: create a Checkout Session and get its URL, and
follow a paid session's progress (the live success page polls it)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from app import payments, purchases
from app.auth import role_required
from app.db import call
from app.errors import ApiError

bp = Blueprint("checkout_sessions", __name__, url_prefix="/api/checkout/sessions")
BLUEPRINTS = (bp,)


@bp.post("")
@role_required("customer")
def create():
    """`{plan, workshop_id, routing_type, intake_id}` as JSON or a form -> 201 `{url}`."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_input", "the body must be a JSON object")
        fields = purchases.checkout_fields(body)
    else:
        fields = purchases.checkout_fields(request.form, extra=("csrf_token",))
    session = purchases.start_checkout(g.principal.sub, fields["plan"], fields["workshop_id"],
                                       fields["routing_type"], fields["intake_id"])
    return jsonify(ok=True, url=session.url, checkout_session_id=session.id), 201


@bp.get("/<cs_id>")
def progress(cs_id: str):
    """Where a Checkout Session stands (get_checkout_progress). The cs_ id is the capability,
    as for the success page Stripe redirects to."""
    if not payments.CS_ID.fullmatch(cs_id):
        raise ApiError(404, "not_found", "session_id must be a Checkout Session id (cs_...)", "session_id")
    row = call("SELECT * FROM get_checkout_progress(%s)", (cs_id,))
    if row is None:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id")
    return jsonify(ok=True, checkout_session_id=cs_id, **row)
