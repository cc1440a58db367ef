"""The workshop directory customers choose a preferred workshop from.

Paged like Stripe's list API: `limit`, then `starting_after` (next page) or `ending_before`
(previous page) with the opaque cursors the response gives (`next_cursor`,
`previous_cursor`, and ready-made `links`). A page costs the same at any depth. `offset`
still works for old clients, but its cost grows with the offset; the links never use it."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from app import directory_paging
from app.params import int_param, only_params

bp = Blueprint("directory", __name__, url_prefix="/api/workshops")
BLUEPRINTS = (bp,)

KEYS = ("workshop_id", "workshop_name", "workshop_email", "workshop_status", "total_mechanics",
        "available_mechanics", "avg_rating", "total_sessions", "created_at")


@bp.get("/directory")
def workshop_directory():
    only_params("limit", "offset", "starting_after", "ending_before")
    limit = int_param("limit", 20, 1, 100)
    offset = int_param("offset", 0, 0)
    after = request.args.get("starting_after")  # checked by the database (SR400)
    before = request.args.get("ending_before")
    page = directory_paging.fetch(limit, offset, after, before)
    links = {
        "next": None if page.next_cursor is None
        else url_for(".workshop_directory", limit=limit, starting_after=page.next_cursor),
        "previous": None if page.previous_cursor is None
        else url_for(".workshop_directory", limit=limit, ending_before=page.previous_cursor),
    }
    return jsonify(ok=True, workshops=[{k: r.get(k) for k in KEYS} for r in page.rows], total=page.total,
                   limit=limit, offset=offset, has_more=page.has_more, next_cursor=page.next_cursor,
                   previous_cursor=page.previous_cursor, links=links)
