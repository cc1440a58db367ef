"""One page of the workshop directory, with the cursors to the pages around it.

get_workshop_directory does the paging (keyset cursors it makes and parses itself, and the
total from a maintained count); this only turns its rows into a page: which cursors lead
on, following Stripe's list API (`has_more` is about the direction of paging)."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import call

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
