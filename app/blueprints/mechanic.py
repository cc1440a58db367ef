"""What a mechanic sees: the offers routed to them now."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from app.auth import role_required
from app.db import call
from app.params import int_param, only_params

bp = Blueprint("mechanic", __name__, url_prefix="/api/mechanic")
BLUEPRINTS = (bp,)


@bp.get("/requests")
@role_required("mechanic")
def mechanic_requests():
    only_params("limit")
    limit = int_param("limit", 50, 1, 200)
    rows = call("SELECT * FROM get_mechanic_offers(%s, %s)", (g.principal.sub, limit), many=True, path_ids=True,
                acting_mechanic=g.principal.sub)
    return jsonify(ok=True, requests=rows)
