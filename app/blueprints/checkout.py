"""Customers pay with Stripe Checkout: create the Checkout Session, then the landing pages."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, g, jsonify, redirect, request

from app import payments
from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.params import only_params, uuid_param

log = logging.getLogger(__name__)
api = Blueprint("checkout", __name__, url_prefix="/api/checkout")
pages = Blueprint("checkout_pages", __name__, url_prefix="/checkout")
BLUEPRINTS = (api, pages)


@api.get("/create-session")
@role_required("customer")
def create_checkout_session():
    only_params("plan", "workshop_id", "routing_type", "intake_id")
    plan = request.args.get("plan")
    if not plan:
        raise ApiError(400, "invalid_input", "plan is required", "plan")
    workshop_id = uuid_param("workshop_id")
    intake_id = uuid_param("intake_id")
    routing_type = request.args.get("routing_type") or None

    try:
        purchase = call(
            "SELECT cp.*, pl.name AS plan_name, pl.duration_minutes "
            "FROM create_checkout_purchase(%s, %s, %s, %s, %s) AS cp "
            "INNER JOIN plans AS pl ON cp.plan_code = pl.code",
            (g.principal.sub, plan, workshop_id, routing_type, intake_id),
            acting_customer=g.principal.sub,
        )
    except ApiError as exc:
        if exc.field == "customer_id":  # a valid token for a customer we do not know
            raise ApiError(403, "forbidden", "the token's subject is not a known customer") from exc
        raise

    purchase_id = str(purchase["id"])
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    params = {
        "mode": "payment",
        "client_reference_id": purchase_id,
        "customer_email": purchase["customer_email"],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": purchase["currency"],
                    "unit_amount": purchase["amount_minor"],
                    "product_data": {"name": purchase["plan_name"]},
                },
            }
        ],
        "metadata": {
            "purchase_id": purchase_id,
            "plan": purchase["plan_code"],
            "customer_id": str(purchase["customer_id"]),
            "customer_email": purchase["customer_email"],
            "workshop_id": str(purchase["preferred_workshop_id"] or ""),
            "routing_type": purchase["routing_type"],
            "intake_id": str(purchase["intake_id"] or ""),
        },
        "success_url": f"{base}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/checkout/cancel",
    }
    try:
        session = payments.client().v1.checkout.sessions.create(params=params, options={"idempotency_key": purchase_id})
    except stripe.StripeError as exc:
        log.warning("stripe checkout session create failed for purchase %s: %s", purchase_id, exc)
        raise ApiError(502, "payment_provider_error", "could not create the checkout session, retry later") from exc
    call("SELECT id FROM attach_checkout_session(%s, %s)", (purchase["id"], session.id),
         acting_customer=g.principal.sub)
    return redirect(session.url, code=303)


@pages.get("/success")
def checkout_success():
    only_params("session_id")
    cs_id = request.args.get("session_id") or ""
    if not payments.CS_ID.fullmatch(cs_id):
        raise ApiError(400, "invalid_input", "session_id must be a Checkout Session id (cs_...)", "session_id")
    try:
        session = payments.client().v1.checkout.sessions.retrieve(cs_id)
    except stripe.InvalidRequestError as exc:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id") from exc
    except stripe.StripeError as exc:
        raise ApiError(502, "payment_provider_error", "could not reach the payment provider, retry later") from exc
    status = call("SELECT * FROM get_checkout_status(%s)", (cs_id,))
    if status is None:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id")
    body = dict(status)
    body.update(
        ok=True,
        checkout_session_id=session.id,
        payment_status=session.payment_status,
        # Fulfillment happens only in the webhook; until then the customer sees "processing".
        fulfilled=status["purchase_status"] == "fulfilled",
    )
    return jsonify(body)


@pages.get("/cancel")
def checkout_cancel():
    return jsonify(ok=True, message="checkout cancelled, nothing was charged")
