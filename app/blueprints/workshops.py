"""The customer's pages: the workshop directory and booking (plan and routing strategy), whose
form creates the Stripe Checkout Session and sends the browser there. They work without
JavaScript and call the same stored procedures as the API."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app import directory_paging, purchases, web
from app.auth import check_csrf, role_required
from app.db import call
from app.params import int_param, only_params, path_uuid

bp = Blueprint("workshops", __name__, url_prefix="/workshops")
site = Blueprint("site", __name__)
BLUEPRINTS = (bp, site)
web.html_errors(bp, always=True)
PAGE_SIZE = 20


@site.get("/")
def home():
    return redirect(url_for("workshops.directory"), code=303)


@bp.get("/")
def directory():
    """Pages by cursor, as the API (`starting_after` / `ending_before`); `start` is only the position
    shown for the first row ("21-40 of N"), carried by the links. `page` (by offset) still works."""
    only_params("page", "starting_after", "ending_before", "start")
    after, before = request.args.get("starting_after"), request.args.get("ending_before")
    if "page" in request.args:
        page = int_param("page", 1, 1, 100000)
        start, result = (page - 1) * PAGE_SIZE + 1, directory_paging.fetch(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    else:
        start = int_param("start", 1, 1)
        result = directory_paging.fetch(PAGE_SIZE, 0, after, before)
        if before is not None and not result.has_more:
            start = 1  # nothing before this page: it is the first
    pages = max(1, -(-result.total // PAGE_SIZE))
    next_url = prev_url = None
    if result.next_cursor:
        next_url = url_for("workshops.directory", starting_after=result.next_cursor,
                           start=start + len(result.rows))
    if result.previous_cursor:
        prev_url = url_for("workshops.directory", ending_before=result.previous_cursor,
                           start=max(1, start - PAGE_SIZE))
    return render_template("directory.html", workshops=result.rows, total=result.total, offset=start - 1,
                           page=min(pages, (start - 1) // PAGE_SIZE + 1), pages=pages, next_url=next_url,
                           prev_url=prev_url)


@bp.get("/<workshop_id>/book")
@role_required("customer")
def book(workshop_id: str):
    wid = path_uuid(workshop_id, "workshop_id")
    options = call("SELECT * FROM get_booking_options(%s)", (wid,), many=True, path_ids=True)
    return render_template("book.html", options=options, workshop=options[0] if options else None,
                           strategies=web.STRATEGIES, chosen=request.args)


@bp.post("/<workshop_id>/book")
@role_required("customer")
def book_post(workshop_id: str):
    """The booking form (no JavaScript needed): Checkout Session, then 303 to Stripe."""
    wid = path_uuid(workshop_id, "workshop_id")
    check_csrf()  # role_required checked it already when the cookie authenticated the call
    fields = purchases.checkout_fields(request.form, extra=("csrf_token",))
    session = purchases.start_checkout(g.principal.sub, fields["plan"], wid, fields["routing_type"],
                                       fields["intake_id"])
    return redirect(session.url, code=303)
