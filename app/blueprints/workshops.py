"""The customer's pages: the workshop directory and booking (plan and routing strategy), whose
form creates the Stripe Checkout Session and sends the browser there. They work without
JavaScript and call the same stored procedures as the API."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app import purchases, web
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
    only_params("page")
    page = int_param("page", 1, 1, 100000)
    offset = (page - 1) * PAGE_SIZE
    # A read that may lag: a standby when DATABASE_READ_URL names one.
    rows = call("SELECT * FROM get_workshop_directory(%s, %s)", (PAGE_SIZE, offset), many=True, read=True)
    total = int(rows[0]["total_count"]) if rows else None
    pages = None if total is None else max(1, -(-total // PAGE_SIZE))
    return render_template("directory.html", workshops=rows, page=page, pages=pages, total=total,
                           offset=offset)


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
