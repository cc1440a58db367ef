"""The workshop directory customers choose a preferred workshop from.

Paged like Stripe's list API: `limit`, then `starting_after` (next page) or `ending_before`
(previous page) with the opaque cursors the response gives (`next_cursor`,
`previous_cursor`, and ready-made `links`). A page costs the same at any depth. `offset`
still works for old clients, but its cost grows with the offset; the links never use it.

`fetch` makes one page, with the cursors to the pages around it, for this endpoint and the
customer's directory page (app/pages/customer.py). get_workshop_directory does the paging (keyset
cursors it makes and parses itself, and the total from a maintained count); `fetch` only turns its
rows into a page: which cursors lead on, following Stripe's list API (`has_more` is about the
direction of paging)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, jsonify, request, url_for

from app.db import call
from app.inputs import int_param, only_params

bp = Blueprint("directory", __name__, url_prefix="/api/workshops")

KEYS = ("workshop_id", "workshop_name", "workshop_email", "workshop_status", "total_mechanics",
        "available_mechanics", "avg_rating", "total_sessions", "created_at")


@bp.get("/directory")
def workshop_directory():
    only_params("limit", "offset", "starting_after", "ending_before")
    limit = int_param("limit", 20, 1, 100)
    offset = int_param("offset", 0, 0)
    after = request.args.get("starting_after")  # checked by the database (SR400)
    before = request.args.get("ending_before")
    page = fetch(limit, offset, after, before)
    links = {
        "next": None if page.next_cursor is None
        else url_for(".workshop_directory", limit=limit, starting_after=page.next_cursor),
        "previous": None if page.previous_cursor is None
        else url_for(".workshop_directory", limit=limit, ending_before=page.previous_cursor),
    }
    return jsonify(ok=True, workshops=[{k: r.get(k) for k in KEYS} for r in page.rows], total=page.total,
                   limit=limit, offset=offset, has_more=page.has_more, next_cursor=page.next_cursor,
                   previous_cursor=page.previous_cursor, links=links)


SQL = "SELECT * FROM get_workshop_directory(%s, %s, %s, %s)"


@dataclass
class Page:
    rows: list[dict]
    total: int
    has_more: bool
    next_cursor: str | None  # starting_after for the page after this one
    previous_cursor: str | None  # ending_before for the page before this one


def fetch(limit: int, offset: int = 0, starting_after: str | None = None, ending_before: str | None = None) -> Page:
    # A read that may lag: a standby when DATABASE_READ_URL names one.
    rows = call(SQL, (limit, offset, starting_after, ending_before), many=True, read=True)
    if rows:
        total, has_more = int(rows[0]["total_count"]), bool(rows[0]["has_more"])
    else:
        # An empty page carries no count: ask for the first row's (the count is O(1)).
        first = call(SQL, (1, 0, None, None), read=True)
        total, has_more = (int(first["total_count"]) if first else 0), False
    backwards = ending_before is not None
    after_more = has_more if not backwards else True
    before_more = has_more if backwards else (starting_after is not None or offset > 0)
    return Page(
        rows=rows,
        total=total,
        has_more=has_more,
        next_cursor=rows[-1]["row_cursor"] if rows and after_more else None,
        previous_cursor=rows[0]["row_cursor"] if rows and before_more else None,
    )
