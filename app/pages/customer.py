"""The customer's pages: the workshop directory and booking (plan and routing strategy), whose
form creates the Stripe Checkout Session and sends the browser there, and the pages Stripe
Checkout sends the browser back to (/checkout/success, live until the session is fulfilled, and
/checkout/cancel), which answer JSON clients with JSON. They work without JavaScript and call the
same stored procedures as the API."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for

from app import limits, payments
from app.api.checkout import checkout_fields, public_status, start_checkout
from app.api.directory import fetch
from app.auth import check_csrf, role_required
from app.db import call
from app.errors import ApiError
from app.inputs import int_param, only_params, path_uuid
from app.pages import html

log = logging.getLogger(__name__)
workshops = Blueprint("workshops", __name__, url_prefix="/workshops")
site = Blueprint("site", __name__)
checkout = Blueprint("checkout_pages", __name__, url_prefix="/checkout")
bookings = Blueprint("bookings", __name__, url_prefix="/bookings")
html.html_errors(workshops, always=True)
html.html_errors(checkout)
html.html_errors(bookings, always=True)
PAGE_SIZE = 20


@site.get("/")
def home():
    return redirect(url_for("workshops.directory"), code=303)


@workshops.get("/")
def directory():
    """Pages by cursor, as the API (`starting_after` / `ending_before`); `start` is only the position
    shown for the first row ("21-40 of N"), carried by the links. `page` (by offset) still works."""
    only_params("page", "starting_after", "ending_before", "start")
    after, before = request.args.get("starting_after"), request.args.get("ending_before")
    if "page" in request.args:
        page = int_param("page", 1, 1, 100000)
        start, result = (page - 1) * PAGE_SIZE + 1, fetch(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    else:
        start = int_param("start", 1, 1)
        result = fetch(PAGE_SIZE, 0, after, before)
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


@workshops.get("/<workshop_id>/book")
@role_required("customer")
def book(workshop_id: str):
    wid = path_uuid(workshop_id, "workshop_id")
    options = call("SELECT * FROM get_booking_options(%s)", (wid,), many=True, path_ids=True)
    return render_template("book.html", options=options, workshop=options[0] if options else None,
                           strategies=html.STRATEGIES, chosen=request.args)


@workshops.post("/<workshop_id>/book")
@role_required("customer")
def book_post(workshop_id: str):
    """The booking form (no JavaScript needed): Checkout Session, then 303 to Stripe."""
    wid = path_uuid(workshop_id, "workshop_id")
    check_csrf()  # role_required checked it already when the cookie authenticated the call
    fields = checkout_fields(request.form, extra=("csrf_token",))
    session = start_checkout(g.principal.sub, fields["plan"], wid, fields["routing_type"], fields["intake_id"])
    return redirect(session.url, code=303)


@checkout.get("/success")
def checkout_success():
    only_params("session_id")
    cs_id = request.args.get("session_id") or ""
    body = success_status(cs_id)
    if html.wants_html():  # a person's browser: the live page (JSON clients keep the JSON)
        return render_template("checkout_success.html", status=body)
    return jsonify(body)


def success_status(cs_id: str) -> dict:
    """What the success page shows, for the JSON answer and the HTML page alike. Re-fetches the
    Checkout Session from Stripe and, when it is paid, runs the same idempotent fulfillment as
    the webhook (fulfill_checkout_purchase), so the customer does not wait for a late webhook;
    the webhook then finds it done (already_fulfilled). Both calls on the payments login
    (pool="payments"): the customer/mechanic login cannot record a payment. Raises ApiError
    400 / 404 / 502."""
    if not payments.CS_ID.fullmatch(cs_id or ""):
        raise ApiError(400, "invalid_input", "session_id must be a Checkout Session id (cs_...)", "session_id")
    limits.check("LOOKUP", cs_id)  # before Stripe is asked
    try:
        session = payments.retrieve_checkout_session(payments.client(), cs_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise payments.provider_error("could not reach the payment provider, retry later") from exc
        raise ApiError(404, "not_found", "unknown checkout session", "session_id") from exc
    except stripe.StripeError as exc:
        raise payments.provider_error("could not reach the payment provider, retry later") from exc
    fulfillment = None
    paid = session.get("payment_status") == "paid"
    if paid and bool(session.get("livemode")) == current_app.config["STRIPE_LIVEMODE"]:
        fulfillment = call(
            "SELECT * FROM fulfill_checkout_purchase(%s, %s, %s, %s, %s)",
            (session.get("id"), session.get("client_reference_id"), session.get("payment_status"),
             session.get("amount_total"), session.get("currency")),
            pool="payments",
        )
        log.info("success page fulfillment of %s: %s", cs_id, fulfillment["outcome"])
    status = call("SELECT * FROM get_checkout_status(%s)", (cs_id,), pool="payments")
    if status is None:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id")
    body = public_status(status)
    body.update(
        ok=True,
        checkout_session_id=session.get("id"),
        payment_status=session.get("payment_status"),
        fulfilled=status["purchase_status"] == "fulfilled",
        fulfillment_outcome=fulfillment["outcome"] if fulfillment else None,
    )
    return body


@checkout.get("/cancel")
def checkout_cancel():
    if html.wants_html():
        return render_template("checkout_cancel.html")
    return jsonify(ok=True, message="checkout cancelled, nothing was charged")


# --- My bookings -------------------------------------------------------------------------------


@bookings.get("/")
@role_required("customer")
def index():
    """Every purchase with where it stands (get_customer_bookings): the open one followed live by
    bookings.js through the success page's status; Cancel while nobody accepted; a review form
    once a session is completed."""
    only_params()
    rows = call("SELECT * FROM get_customer_bookings(%s, %s)", (g.principal.sub, 50), many=True, path_ids=True,
                acting_customer=g.principal.sub)
    return render_template("bookings.html", bookings=rows)


def refund_words(row: dict) -> str:
    if not row or not row.get("refund_status"):
        return "You will be refunded in full."
    amount = html.money(row["refund_amount_minor"], row["refund_currency"])
    if row["refund_status"] == "succeeded":
        return f"Refunded {amount}."
    if row["refund_status"] == "failed":
        return f"We could not refund {amount} automatically: our support team is on it."
    return f"We are refunding {amount} to you in full."


@bookings.post("/requests/<request_id>/cancel")
@role_required("customer")  # with the session cookie: the form's CSRF token is checked
def cancel(request_id: str):
    rid = path_uuid(request_id, "request_id")
    html.act(lambda: call("SELECT * FROM cancel_customer_session_request(%s, %s)", (rid, g.principal.sub),
                          path_ids=True, acting_customer=g.principal.sub),
             lambda row: "Your request is cancelled. " + refund_words(row), "Could not cancel")
    return redirect(url_for("bookings.index"), code=303)


@bookings.post("/sessions/<session_id>/review")
@role_required("customer")
def review(session_id: str):
    sid = path_uuid(session_id, "session_id")
    raw = request.form.get("rating", "")
    rating = int(raw) if raw.isdigit() and len(raw) <= 3 else None  # the database says what is allowed
    comment = request.form.get("comment") or None
    html.act(lambda: call("SELECT * FROM review_session(%s, %s, %s, %s)", (sid, g.principal.sub, rating, comment),
                          path_ids=True, acting_customer=g.principal.sub),
             "Thank you: your review is published.", "Could not save your review")
    return redirect(url_for("bookings.index"), code=303)
