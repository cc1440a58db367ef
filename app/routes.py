"""The endpoints. Each does HTTP and Stripe I/O and one database call."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import stripe
from flask import Blueprint, Response, current_app, jsonify, redirect, request
from psycopg.rows import dict_row

from app.auth import current_principal
from app.errors import ApiError, from_db_error

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
CS_ID = re.compile(r"^cs_[A-Za-z0-9_]+$")
FULFILLING_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
CHECKOUT_EVENTS = (*FULFILLING_EVENTS, "checkout.session.async_payment_failed", "checkout.session.expired")
# Database field names -> the names the client used.
PARAM_NAMES = {"p_preferred_workshop_id": "workshop_id", "preferred_workshop_id": "workshop_id",
               "p_routing_type": "routing_type", "p_limit": "limit", "p_offset": "offset", "plan_code": "plan"}


def _pool():
    return current_app.extensions["db_pool"]


def _stripe() -> stripe.StripeClient:
    return current_app.extensions["stripe"]


def _call(sql: str, params: tuple, *, path_ids: bool = False, many: bool = False, acting_mechanic=None,
          acting_customer=None):
    """Run one statement in one transaction and map our SQLSTATEs to ApiError.
    acting_mechanic / acting_customer set app.mechanic_id / app.customer_id for that
    transaction, from the verified token: the functions that act for a mechanic or a
    customer refuse (SR403) unless it names the one the call is for. The database honours
    these settings only from the app's login (role ssr_app)."""
    try:
        with _pool().connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            if acting_mechanic is not None:
                cur.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", (str(acting_mechanic),))
            if acting_customer is not None:
                cur.execute("SELECT set_config('app.customer_id', %s, TRUE)", (str(acting_customer),))
            cur.execute(sql, params)
            return cur.fetchall() if many else cur.fetchone()
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:
        mapped = from_db_error(exc, path_ids=path_ids, field_map=PARAM_NAMES)
        if mapped is None:
            raise
        raise mapped from exc


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _row(row: dict) -> dict:
    return {k: _jsonable(v) for k, v in row.items()}


def _uuid_param(name: str, required: bool = False) -> uuid.UUID | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, "invalid_input", f"{name} is required", name)
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_input", f"{name} must be a UUID", name) from exc


def _int_param(name: str, default: int, lo: int, hi: int | None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,9}", raw.strip()):
        raise ApiError(400, "invalid_input", f"{name} must be an integer", name)
    value = int(raw)
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ApiError(400, "invalid_input", f"{name} must be {bounds}", name)
    return value


def _only_params(*allowed: str) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise ApiError(400, "invalid_input", f"unknown query parameter {unknown[0]}", unknown[0])
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, "invalid_input", f"{name} is given more than once", name)


@bp.get("/api/openapi.json")
def openapi():
    return Response(OPENAPI_PATH.read_bytes(), mimetype="application/json")


# --- customers -------------------------------------------------------------------------


@bp.get("/api/checkout/create-session")
def create_checkout_session():
    who = current_principal("customer")
    _only_params("plan", "workshop_id", "routing_type", "intake_id")
    plan = request.args.get("plan")
    if not plan:
        raise ApiError(400, "invalid_input", "plan is required", "plan")
    workshop_id = _uuid_param("workshop_id")
    intake_id = _uuid_param("intake_id")
    routing_type = request.args.get("routing_type") or None

    try:
        purchase = _call(
            "SELECT cp.*, pl.name AS plan_name, pl.duration_minutes "
            "FROM create_checkout_purchase(%s, %s, %s, %s, %s) AS cp "
            "INNER JOIN plans AS pl ON cp.plan_code = pl.code",
            (who.sub, plan, workshop_id, routing_type, intake_id),
            acting_customer=who.sub,
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
        session = _stripe().v1.checkout.sessions.create(params=params, options={"idempotency_key": purchase_id})
    except stripe.StripeError as exc:
        log.warning("stripe checkout session create failed for purchase %s: %s", purchase_id, exc)
        raise ApiError(502, "payment_provider_error", "could not create the checkout session, retry later") from exc
    _call("SELECT id FROM attach_checkout_session(%s, %s)", (purchase["id"], session.id), acting_customer=who.sub)
    return redirect(session.url, code=303)


@bp.get("/api/workshops/directory")
def workshop_directory():
    _only_params("limit", "offset")
    limit = _int_param("limit", 20, 1, 100)
    offset = _int_param("offset", 0, 0, None)
    rows = _call("SELECT * FROM get_workshop_directory(%s, %s)", (limit, offset), many=True)
    keys = ("workshop_id", "workshop_name", "workshop_email", "workshop_status", "total_mechanics",
            "available_mechanics", "avg_rating", "total_sessions", "created_at")
    workshops = [{k: _jsonable(r.get(k)) for k in keys} for r in rows]
    total = int(rows[0]["total_count"]) if rows else None
    if total is None:
        # Past the last page the function returns no row to carry the count.
        first = None if offset == 0 else _call("SELECT total_count FROM get_workshop_directory(1, 0)", ())
        total = int(first["total_count"]) if first else 0
    return jsonify(ok=True, workshops=workshops, total=total, limit=limit, offset=offset)


@bp.get("/checkout/success")
def checkout_success():
    _only_params("session_id")
    cs_id = request.args.get("session_id") or ""
    if not CS_ID.fullmatch(cs_id):
        raise ApiError(400, "invalid_input", "session_id must be a Checkout Session id (cs_...)", "session_id")
    try:
        session = _stripe().v1.checkout.sessions.retrieve(cs_id)
    except stripe.InvalidRequestError as exc:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id") from exc
    except stripe.StripeError as exc:
        raise ApiError(502, "payment_provider_error", "could not reach the payment provider, retry later") from exc
    status = _call("SELECT * FROM get_checkout_status(%s)", (cs_id,))
    if status is None:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id")
    body = _row(status)
    body.update(
        ok=True,
        checkout_session_id=session.id,
        payment_status=session.payment_status,
        # Fulfillment happens only in the webhook; until then the customer sees "processing".
        fulfilled=status["purchase_status"] == "fulfilled",
    )
    return jsonify(body)


@bp.get("/checkout/cancel")
def checkout_cancel():
    return jsonify(ok=True, message="checkout cancelled, nothing was charged")


# --- mechanics -------------------------------------------------------------------------


@bp.get("/api/mechanic/requests")
def mechanic_requests():
    who = current_principal("mechanic")
    _only_params("limit")
    limit = _int_param("limit", 50, 1, 200)
    rows = _call("SELECT * FROM get_mechanic_offers(%s, %s)", (who.sub, limit), many=True, path_ids=True,
                 acting_mechanic=who.sub)
    return jsonify(ok=True, requests=[_row(r) for r in rows])


@bp.post("/api/session-requests/<request_id>/accept")
def accept_request(request_id: str):
    who = current_principal("mechanic")
    try:
        rid = uuid.UUID(request_id)
    except ValueError as exc:
        raise ApiError(404, "not_found", "request_id must be a UUID", "request_id") from exc
    row = _call("SELECT * FROM accept_session_request(%s, %s)", (rid, who.sub), path_ids=True,
                acting_mechanic=who.sub)
    return jsonify(ok=True, request=_row(row))


# --- Stripe ----------------------------------------------------------------------------


@bp.post("/api/stripe/webhook")
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
        if not isinstance(cs_id, str) or not CS_ID.fullmatch(cs_id):
            raise ApiError(400, "invalid_payload", "the event carries no Checkout Session id", "data.object.id")
        # Trust Stripe's API, not the payload: re-fetch the session.
        try:
            session = _stripe().v1.checkout.sessions.retrieve(cs_id).to_dict()
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
    row = _call(
        "SELECT * FROM handle_checkout_event(%s, %s, %s, %s, %s, %s, %s, %s)",
        (event_id, event_type, bool(event.get("livemode")), *fields),
    )
    log.info("stripe event %s %s: %s", event_id, event_type, row["outcome"])
    return jsonify(ok=True, received=True, event_id=event_id, **_row(row))


def openapi_document() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
