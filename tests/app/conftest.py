"""Fixtures for the Flask app: a real database (seeded), the real `stripe` library
pointed at a local fake of the Stripe API, real signed webhooks and real JWTs."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
import pytest

from app import create_app
from app.db import close_pools
from dev.stripe_fake import StripeFake, sign

WEBHOOK_SECRET = "whsec_test_" + "k" * 32
JWT_SECRET = "jwt-test-secret-" + "s" * 32
SECRET_KEY = "cookie-test-secret-" + "c" * 32  # the session cookie's and CSRF tokens' key
ALICE = "33333333-3333-4333-8333-000000000001"
ALICE_EMAIL = "alice@customer.example"
AUTOPRO = "11111111-1111-4111-8111-000000000001"
CITY_AUTO = "11111111-1111-4111-8111-000000000002"
SHADY = "11111111-1111-4111-8111-000000000004"
FRESH = "11111111-1111-4111-8111-000000000005"
ANA = "22222222-2222-4222-8222-000000000001"  # AutoPro, available
DEV = "22222222-2222-4222-8222-000000000004"  # City Auto, available

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "app" / "openapi.json").read_text())


def token(sub: str = ALICE, role: str = "customer", ttl: int = 300, secret: str = JWT_SECRET, **extra) -> str:
    now = int(time.time())
    claims = {"sub": sub, "role": role, "iat": now, "exp": now + ttl, **extra}
    return jwt.encode(claims, secret, algorithm="HS256")


def auth(sub: str = ALICE, role: str = "customer", **kw) -> dict:
    return {"Authorization": f"Bearer {token(sub, role, **kw)}"}


def documented_codes(rule: str, method: str) -> set[str]:
    path = rule.replace("<", "{").replace(">", "}")
    return set(OPENAPI["paths"][path][method.lower()]["responses"])


class CheckedClient:
    """The Flask test client; every response's status must be documented in the OpenAPI file."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def open(self, method: str, url: str, **kw):
        resp = self.client.open(url, method=method, **kw)
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(url.split("?", 1)[0], method=method, return_rule=True)
        except Exception:  # unrouted: the generic JSON 404/405
            assert resp.is_json, resp.data
            return resp
        codes = documented_codes(rule.rule, method)
        assert str(resp.status_code) in codes or (resp.status_code >= 500 and "default" in codes), (
            f"{method} {rule.rule} answered {resp.status_code}, not in the OpenAPI responses {sorted(codes)}"
        )
        if resp.status_code != 303:
            assert resp.is_json, resp.data
        return resp

    def get(self, url: str, **kw):
        return self.open("GET", url, **kw)

    def post(self, url: str, **kw):
        return self.open("POST", url, **kw)


@pytest.fixture
def stripe_fake():
    fake = StripeFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(app_db_url, payments_db_url, stripe_fake):
    """The app connects as its least-privilege logins (ssr_app, and ssr_payments for what records a
    payment); fixtures write through `db` (the owner)."""
    return {
        "DATABASE_URL": app_db_url,
        "PAYMENTS_DATABASE_URL": payments_db_url,
        "STRIPE_SECRET_KEY": "sk_test_fake_" + "x" * 24,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_fake.url,
        "JWT_SECRET": JWT_SECRET,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "https://ssr.example",
        "POOL_MAX_SIZE": 8,
        "POOL_TIMEOUT": 5,
    }


@pytest.fixture
def app(seeded_conn, app_config):
    application = create_app(app_config)
    yield application
    close_pools(application)


@pytest.fixture
def client(app):
    return CheckedClient(app)


@pytest.fixture
def db(seeded_conn):
    return seeded_conn


def snapshot(conn) -> dict:
    """Row counts of everything checkout and fulfillment may write."""
    tables = ("checkout_purchases", "stripe_events", "sessions", "session_requests")
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def event_payload(session: dict, event_type: str = "checkout.session.completed", event_id: str | None = None,
                  livemode: bool = False) -> bytes:
    event = {
        "id": event_id or "evt_test_" + uuid.uuid4().hex,
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "type": event_type,
        "livemode": livemode,
        "data": {"object": session},
    }
    return json.dumps(event).encode()


def deliver(client, payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, header: str | None = None):
    headers = {"Content-Type": "application/json"}
    headers["Stripe-Signature"] = header if header is not None else sign(payload, secret, timestamp)
    return client.post("/api/stripe/webhook", data=payload, headers=headers)


def start_checkout(client, query: str = "plan=video15", sub: str = ALICE):
    """GET create-session as a customer; returns (response, purchase id or None)."""
    resp = client.get(f"/api/checkout/create-session?{query}", headers=auth(sub))
    return resp


def deliver_http(base_url: str, payload: bytes, secret: str = WEBHOOK_SECRET) -> tuple[int, dict]:
    """POST a signed event to a running server over real HTTP."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(  # noqa: S310 - local test server
        base_url + "/api/stripe/webhook", data=payload, method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)},
    )
    try:
        with urllib.request.urlopen(req) as r:  # noqa: S310 - local test server
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
