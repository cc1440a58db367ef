"""The workshop directory customers choose a preferred workshop from."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.db import call
from app.params import int_param, only_params

bp = Blueprint("directory", __name__, url_prefix="/api/workshops")
BLUEPRINTS = (bp,)

KEYS = ("workshop_id", "workshop_name", "workshop_email", "workshop_status", "total_mechanics",
        "available_mechanics", "avg_rating", "total_sessions", "created_at")


@bp.get("/directory")
def workshop_directory():
    only_params("limit", "offset")
    limit = int_param("limit", 20, 1, 100)
    offset = int_param("offset", 0, 0)
    # A read that may lag: a standby when DATABASE_READ_URL names one.
    rows = call("SELECT * FROM get_workshop_directory(%s, %s)", (limit, offset), many=True, read=True)
    workshops = [{k: r.get(k) for k in KEYS} for r in rows]
    total = int(rows[0]["total_count"]) if rows else None
    if total is None:
        # Past the last page the function returns no row to carry the count.
        first = None if offset == 0 else call("SELECT total_count FROM get_workshop_directory(1, 0)", (), read=True)
        total = int(first["total_count"]) if first else 0
    return jsonify(ok=True, workshops=workshops, total=total, limit=limit, offset=offset)
