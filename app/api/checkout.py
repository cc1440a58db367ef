"""/api/checkout: customers pay with Stripe Checkout. The one code path that starts a Checkout
(`start_checkout`) is behind the seed's GET /api/checkout/create-session (303 to Stripe), POST
/api/checkout/sessions (201 with the URL, for clients that are not pages) and the booking form
(app/pages/customer.py); GET /api/checkout/sessions/<cs_id> follows a paid session's progress (the
live success page polls it).

create_checkout_purchase records a pending purchase (its id is the client_reference_id and the
Stripe idempotency key), Stripe creates the Checkout Session with price and currency from
`plans`, then attach_checkout_session records its id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

import stripe
from flask import Blueprint, current_app, g, jsonify, redirect, request

from app import limits, payments
from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.inputs import only_params

log = logging.getLogger(__name__)
bp = Blueprint("checkout", __name__, url_prefix="/api/checkout")

FIELDS = ("plan", "workshop_id", "routing_type", "intake_id")
# Why a purchase failed, as the cs_ lookups tell it (the capability is only the cs_ id): a
# stable code, never the database's failure_reason text (it may carry internal detail).
FAILURE_CODES = ("payment_failed", "amount_mismatch", "fulfillment_rejected")


def public_status(row: Mapping) -> dict:
    """A get_checkout_status / get_checkout_progress row for the outside: failure_reason
    replaced by failure_code (one of FAILURE_CODES, `failed` for any other reason, or null)."""
    out = dict(row)
    reason = out.pop("failure_reason", None)
    code = reason.split(":", 1)[0].strip() if isinstance(reason, str) else None
    out["failure_code"] = None if reason is None else (code if code in FAILURE_CODES else "failed")
    return out


@bp.get("/create-session")
@role_required("customer", bearer_only=True)
def create_checkout_session():
    """The seed's endpoint: the choice in the query string, 303 to Stripe Checkout. A GET that
    creates a purchase, so a bearer token only: the session cookie would ride along on any
    cross-site link (SameSite=Lax allows top-level GETs); the pages use the POST form."""
    only_params(*FIELDS)
    f = checkout_fields(request.args)
    session = start_checkout(g.principal.sub, f["plan"], f["workshop_id"], f["routing_type"], f["intake_id"])
    return redirect(session.url, code=303)


@bp.post("/sessions")
@role_required("customer")
def create():
    """`{plan, workshop_id, routing_type, intake_id}` as JSON or a form -> 201 `{url}`."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_input", "the body must be a JSON object")
        fields = checkout_fields(body)
    else:
        fields = checkout_fields(request.form, extra=("csrf_token",))
    session = start_checkout(g.principal.sub, fields["plan"], fields["workshop_id"], fields["routing_type"],
                             fields["intake_id"])
    return jsonify(ok=True, url=session.url, checkout_session_id=session.id), 201


@bp.get("/sessions/<cs_id>")
def progress(cs_id: str):
    """Where a Checkout Session stands (get_checkout_progress). The cs_ id is the capability,
    as for the success page Stripe redirects to."""
    if not payments.CS_ID.fullmatch(cs_id):
        raise ApiError(404, "not_found", "session_id must be a Checkout Session id (cs_...)", "session_id")
    limits.check("LOOKUP", cs_id)
    row = call("SELECT * FROM get_checkout_progress(%s)", (cs_id,))
    if row is None:
        raise ApiError(404, "not_found", "unknown checkout session", "session_id")
    return jsonify(ok=True, checkout_session_id=cs_id, **public_status(row))


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
    Bad input: the database's 400 naming the field, nothing written; Stripe down: 502; past the
    checkout limits (app/limits.py): 429, nothing written."""
    limits.check("CHECKOUT", str(customer_id))
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
        raise payments.provider_error("could not create the checkout session, retry later") from exc
    call("SELECT id FROM attach_checkout_session(%s, %s)", (purchase["id"], session.id), acting_customer=customer_id)
    return session
