"""Starting a Stripe Checkout: the one code path behind the seed's GET
/api/checkout/create-session, POST /api/checkout/sessions and the booking form.

create_checkout_purchase records a pending purchase (its id is the client_reference_id and the
Stripe idempotency key), Stripe creates the Checkout Session with price and currency from
`plans`, then attach_checkout_session records its id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

import stripe
from flask import current_app

from app import payments
from app.db import call
from app.errors import ApiError

log = logging.getLogger(__name__)

FIELDS = ("plan", "workshop_id", "routing_type", "intake_id")


def checkout_fields(source: Mapping, extra: tuple[str, ...] = ()) -> dict:
    """plan, workshop_id, routing_type, intake_id from a query string, a form or a JSON object:
    a 400 naming the field for an unknown field, a missing plan or a malformed id."""
    unknown = sorted(set(source) - set(FIELDS) - set(extra))
    if unknown:
        raise ApiError(400, "invalid_input", f"unknown field {unknown[0]}", unknown[0])
    getlist = getattr(source, "getlist", None)
    fields: dict = {}
    for name in FIELDS:
        if getlist is not None and len(getlist(name)) > 1:
            raise ApiError(400, "invalid_input", f"{name} is given more than once", name)
        value = source.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_input", f"{name} must be a string", name)
        fields[name] = value or None
    if not fields["plan"]:
        raise ApiError(400, "invalid_input", "plan is required", "plan")
    for name in ("workshop_id", "intake_id"):
        if fields[name] is not None:
            try:
                fields[name] = uuid.UUID(fields[name])
            except ValueError as exc:
                raise ApiError(400, "invalid_input", f"{name} must be a UUID", name) from exc
    return fields


def start_checkout(customer_id: uuid.UUID, plan: str, workshop_id: uuid.UUID | None = None,
                   routing_type: str | None = None, intake_id: uuid.UUID | None = None):
    """Create the purchase and its Stripe Checkout Session; returns the session (id, url).
    Bad input: the database's 400 naming the field, nothing written; Stripe down: 502."""
    try:
        purchase = call(
            "SELECT cp.*, pl.name AS plan_name, pl.duration_minutes "
            "FROM create_checkout_purchase(%s, %s, %s, %s, %s) AS cp "
            "INNER JOIN plans AS pl ON cp.plan_code = pl.code",
            (customer_id, plan, workshop_id, routing_type, intake_id),
            acting_customer=customer_id,
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
    call("SELECT id FROM attach_checkout_session(%s, %s)", (purchase["id"], session.id), acting_customer=customer_id)
    return session
