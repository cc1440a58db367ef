"""Stripe's webhook: verified on the raw body, the Checkout Session re-fetched from Stripe,
then one call to handle_checkout_event."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, jsonify, request

from app import payments
from app.db import call
from app.errors import ApiError

log = logging.getLogger(__name__)
bp = Blueprint("stripe", __name__, url_prefix="/api/stripe")
BLUEPRINTS = (bp,)

FULFILLING_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
CHECKOUT_EVENTS = (*FULFILLING_EVENTS, "checkout.session.async_payment_failed", "checkout.session.expired")


@bp.post("/webhook")
def stripe_webhook():
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")
    payload = request.get_data(cache=False)
    if len(payload) > limit:
        raise ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        raise ApiError(400, "invalid_signature", "missing Stripe-Signature header", "Stripe-Signature")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"]
        ).to_dict()
    except stripe.SignatureVerificationError as exc:
        raise ApiError(400, "invalid_signature", f"signature verification failed: {exc.user_message or exc}",
                       "Stripe-Signature") from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_payload", "the body is not a Stripe event") from exc
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise ApiError(400, "invalid_payload", "the event has no id or type")
    expected = current_app.config["STRIPE_LIVEMODE"]
    if bool(event.get("livemode")) != expected:
        raise ApiError(400, "livemode_mismatch",
                       f"event livemode={bool(event.get('livemode'))} but this endpoint is "
                       f"{'live' if expected else 'test'} mode", "livemode")

    fields = (None, None, None, None, None)
    if event_type in CHECKOUT_EVENTS:
        obj = event.get("data", {}).get("object") if isinstance(event.get("data"), dict) else None
        cs_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(cs_id, str) or not payments.CS_ID.fullmatch(cs_id):
            raise ApiError(400, "invalid_payload", "the event carries no Checkout Session id", "data.object.id")
        # Trust Stripe's API, not the payload: re-fetch the session.
        try:
            session = payments.client().v1.checkout.sessions.retrieve(cs_id).to_dict()
        except stripe.InvalidRequestError as exc:
            # Not a session of this account (e.g. deleted or another integration's): record it,
            # it matches no purchase; retrying would not change that.
            log.warning("checkout session %s not retrievable: %s", cs_id, exc)
            session = {"id": cs_id, "livemode": expected}
        except stripe.StripeError as exc:
            log.warning("could not retrieve %s: %s", cs_id, exc)
            raise ApiError(503, "payment_provider_error", "could not re-fetch the checkout session, retry later",
                           headers={"Retry-After": "5"}) from exc
        if bool(session.get("livemode")) != expected:
            raise ApiError(400, "livemode_mismatch", "checkout session livemode does not match", "livemode")
        fields = (
            session.get("id"),
            session.get("client_reference_id"),
            session.get("payment_status"),
            session.get("amount_total"),
            session.get("currency"),
        )
    row = call(
        "SELECT * FROM handle_checkout_event(%s, %s, %s, %s, %s, %s, %s, %s)",
        (event_id, event_type, bool(event.get("livemode")), *fields),
    )
    log.info("stripe event %s %s: %s", event_id, event_type, row["outcome"])
    return jsonify(ok=True, received=True, event_id=event_id, **row)
