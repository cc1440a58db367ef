"""Stripe's webhook: verified on the raw body, the object re-fetched from Stripe, then one
call: handle_checkout_event for Checkout Sessions, handle_refund_event for refunds, each on the
payments login (pool="payments", PAYMENTS_DATABASE_URL)."""

from __future__ import annotations

import json
import logging
import re

import psycopg
import stripe
from flask import Blueprint, current_app, g, jsonify, request
from psycopg.types.json import Jsonb

from app import payments
from app.db import call
from app.errors import ApiError

log = logging.getLogger(__name__)
bp = Blueprint("stripe", __name__, url_prefix="/api/stripe")

FULFILLING_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
CHECKOUT_EVENTS = (*FULFILLING_EVENTS, "checkout.session.async_payment_failed", "checkout.session.expired")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refunded")
# What the re-fetched Checkout Session must show before the event that fails or expires a
# purchase is acted on (Stripe's checkout.session: status open | complete | expired,
# payment_status paid | unpaid | no_payment_required). A delayed payment that failed leaves a
# complete session unpaid; an expired session is expired and unpaid.
CONFIRMED_BY = {
    "checkout.session.expired": lambda s: s.get("status") == "expired" and s.get("payment_status") == "unpaid",
    "checkout.session.async_payment_failed":
        lambda s: s.get("status") == "complete" and s.get("payment_status") == "unpaid",
}
RE_ID = re.compile(r"^re_[A-Za-z0-9_]+$")
PI_ID = re.compile(r"^pi_[A-Za-z0-9_]+$")
CH_ID = re.compile(r"^(ch|py)_[A-Za-z0-9_]+$")


def _event_object(event: dict) -> dict | None:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else None


def _refetch_refunds(event_type: str, obj: dict | None) -> list[dict]:
    """The refunds an event is about, as Stripe's API shows them now (never the payload)."""
    stripe_client = payments.client()
    if event_type == "charge.refunded":
        pi, charge = (obj or {}).get("payment_intent"), (obj or {}).get("id")
        if isinstance(pi, str) and PI_ID.fullmatch(pi):
            params = {"payment_intent": pi, "limit": 100}
        elif isinstance(charge, str) and CH_ID.fullmatch(charge):
            params = {"charge": charge, "limit": 100}
        else:
            raise ApiError(400, "invalid_payload", "the event carries no charge or payment intent", "data.object.id")
        listed = stripe_client.v1.refunds.list(params=params)
        return [r.to_dict() for r in listed.auto_paging_iter()]
    rid = (obj or {}).get("id")
    if not isinstance(rid, str) or not RE_ID.fullmatch(rid):
        raise ApiError(400, "invalid_payload", "the event carries no refund id", "data.object.id")
    try:
        return [stripe_client.v1.refunds.retrieve(rid).to_dict()]
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            log.error("refund %s of event %s is not visible with this key: %s", rid, event_type, exc)
            return []
        raise


def _handle_refund_event(event_id: str, event_type: str, event: dict):
    try:
        refunds = _refetch_refunds(event_type, _event_object(event))
    except stripe.StripeError as exc:
        log.warning("could not re-fetch the refunds of %s: %s", event_id, exc)
        raise payments.provider_error("could not re-fetch the refund, retry later", webhook=True) from exc
    row = call("SELECT * FROM handle_refund_event(%s, %s, %s, %s)",
               (event_id, event_type, bool(event.get("livemode")), Jsonb(refunds)), pool="payments")
    _log(row["outcome"], event_id, event_type)
    return jsonify(ok=True, received=True, event_id=event_id, **row)


def _log(outcome: str, event_id=None, event_type=None, level=logging.INFO) -> None:
    """One line per delivery: event id, type and what became of it."""
    log.log(level, "stripe event %s %s: %s", event_id or "-", event_type or "-", outcome,
            extra={"event_id": event_id, "event_type": event_type, "outcome": outcome})


@bp.post("/webhook")
def stripe_webhook():
    try:
        return _handle()
    except (ApiError, psycopg.OperationalError) as exc:
        event = g.get("stripe_event") or {}
        ids = tuple(v if isinstance(v, str) else None for v in (event.get("id"), event.get("type")))
        what = f"{exc.status} {exc.code}" if isinstance(exc, ApiError) else f"503 database ({type(exc).__name__})"
        _log(f"refused {what}", *ids,
             level=logging.INFO if isinstance(exc, ApiError) and exc.status < 500 else logging.WARNING)
        raise


def _handle():
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
        stripe.WebhookSignature.verify_header(payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"],
                                              stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise ApiError(400, "invalid_signature", f"signature verification failed: {exc.user_message or exc}",
                       "Stripe-Signature") from exc
    except ValueError as exc:  # not UTF-8, not JSON
        raise ApiError(400, "invalid_payload", "the body is not a Stripe event") from exc
    if not isinstance(event, dict):
        raise ApiError(400, "invalid_payload", "the body is not a Stripe event (a JSON object)")
    g.stripe_event = event
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise ApiError(400, "invalid_payload", "the event has no id or type")
    expected = current_app.config["STRIPE_LIVEMODE"]
    if bool(event.get("livemode")) != expected:
        raise ApiError(400, "livemode_mismatch",
                       f"event livemode={bool(event.get('livemode'))} but this endpoint is "
                       f"{'live' if expected else 'test'} mode", "livemode")

    if event_type in REFUND_EVENTS:
        return _handle_refund_event(event_id, event_type, event)
    fields = (None, None, None, None, None)
    if event_type in CHECKOUT_EVENTS:
        obj = event.get("data", {}).get("object") if isinstance(event.get("data"), dict) else None
        cs_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(cs_id, str) or not payments.CS_ID.fullmatch(cs_id):
            raise ApiError(400, "invalid_payload", "the event carries no Checkout Session id", "data.object.id")
        # Trust Stripe's API, not the payload: re-fetch the session.
        try:
            session = payments.retrieve_checkout_session(payments.client(), cs_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                log.warning("could not retrieve %s: %s", cs_id, exc)
                raise payments.provider_error("could not re-fetch the checkout session, retry later",
                                              webhook=True) from exc
            # Signed by our endpoint secret, yet Stripe's API does not show it with our key (a key
            # of another account or mode?). Never acknowledge it: keep it as unresolved (for
            # reconciliation and the operator) and answer non-2xx so that Stripe retries.
            log.error("checkout session %s of event %s is not retrievable with this API key (404): it stays "
                      "unresolved and the event is refused until it can be fulfilled; check STRIPE_SECRET_KEY: %s",
                      cs_id, event_id, exc)
            call("SELECT 1 FROM note_unresolved_checkout_session(%s, %s, %s)", (cs_id, event_id, str(exc)),
                 pool="payments")
            raise ApiError(503, "checkout_session_unresolved",
                           "the checkout session is not retrievable with this API key; retry later",
                           "data.object.id", headers={"Retry-After": "60"}) from exc
        except stripe.StripeError as exc:
            log.warning("could not retrieve %s: %s", cs_id, exc)
            raise payments.provider_error("could not re-fetch the checkout session, retry later",
                                          webhook=True) from exc
        if bool(session.get("livemode")) != expected:
            raise ApiError(400, "livemode_mismatch", "checkout session livemode does not match", "livemode")
        confirmed = CONFIRMED_BY.get(event_type)
        if confirmed is not None and not confirmed(session):
            # Stripe's API does not show what the event says (e.g. "expired" for a session
            # that is open or paid): nothing is changed, and the 2xx ends Stripe's retries.
            log.warning("stripe event %s %s not confirmed by checkout session %s (status %s, payment_status %s): "
                        "nothing changed", event_id, event_type, cs_id, session.get("status"),
                        session.get("payment_status"))
            _log("unconfirmed", event_id, event_type)
            return jsonify(ok=True, received=True, event_id=event_id, outcome="unconfirmed")
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
        pool="payments",
    )
    _log(row["outcome"], event_id, event_type)
    return jsonify(ok=True, received=True, event_id=event_id, **row)
