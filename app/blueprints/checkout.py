"""Customers pay with Stripe Checkout: create the Checkout Session, then the landing pages."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request

from app import payments, purchases, web
from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.params import only_params

log = logging.getLogger(__name__)
api = Blueprint("checkout", __name__, url_prefix="/api/checkout")
pages = Blueprint("checkout_pages", __name__, url_prefix="/checkout")
BLUEPRINTS = (api, pages)


@api.get("/create-session")
@role_required("customer")
def create_checkout_session():
    """The seed's endpoint: the choice in the query string, 303 to Stripe Checkout."""
    only_params(*purchases.FIELDS)
    f = purchases.checkout_fields(request.args)
    session = purchases.start_checkout(g.principal.sub, f["plan"], f["workshop_id"], f["routing_type"], f["intake_id"])
    return redirect(session.url, code=303)


@pages.get("/success")
def checkout_success():
    only_params("session_id")
    cs_id = request.args.get("session_id") or ""
    body = success_status(cs_id)
    if web.wants_html():  # a person's browser: the live page (JSON clients keep the JSON)
        return render_template("checkout_success.html", status=body)
    return jsonify(body)


def success_status(cs_id: str) -> dict:
    """What the success page shows, for the JSON answer and the HTML page alike. Re-fetches the
    Checkout Session from Stripe and, when it is paid, runs the same idempotent fulfillment as
    the webhook (fulfill_checkout_purchase), so the customer does not wait for a late webhook;
    the webhook then finds it done (already_fulfilled). Raises ApiError 400 / 404 / 502."""
    if not payments.CS_ID.fullmatch(cs_id or ""):
        raise ApiError(400, "invalid_input", "session_id must be a Checkout Session id (cs_...)", "session_id")
    try:
        session = payments.client().v1.checkout.sessions.retrieve(cs_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise ApiError(502, "payment_provider_error", "could not reach the payment provider, retry later") from exc
        raise ApiError(404, "not_found", "unknown checkout session", "session_id") from exc
    except stripe.StripeError as exc:
        raise ApiError(502, "payment_provider_error", "could not reach the payment provider, retry later") from exc
    fulfillment = None
    if session.payment_status == "paid" and bool(session.livemode) == current_app.config["STRIPE_LIVEMODE"]:
        fulfillment = call(
            "SELECT * FROM fulfill_checkout_purchase(%s, %s, %s, %s, %s)",
            (session.id, session.client_reference_id, session.payment_status, session.amount_total, session.currency),
        )
        log.info("success page fulfillment of %s: %s", cs_id, fulfillment["outcome"])
    status = call("SELECT * FROM get_checkout_status(%s)", (cs_id,))
    if status is None:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id")
    body = dict(status)
    body.update(
        ok=True,
        checkout_session_id=session.id,
        payment_status=session.payment_status,
        fulfilled=status["purchase_status"] == "fulfilled",
        fulfillment_outcome=fulfillment["outcome"] if fulfillment else None,
    )
    return body


@pages.get("/cancel")
def checkout_cancel():
    if web.wants_html():
        return render_template("checkout_cancel.html")
    return jsonify(ok=True, message="checkout cancelled, nothing was charged")


web.html_errors(pages)
