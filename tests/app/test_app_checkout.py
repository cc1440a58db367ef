"""GET /api/checkout/create-session against the real stripe library and a local fake of Stripe."""

from __future__ import annotations

import time

import pytest

from app import ConfigError, create_app
from tests.app.conftest import (
    ALICE,
    ALICE_EMAIL,
    ANA,
    AUTOPRO,
    FRESH,
    SHADY,
    auth,
    snapshot,
    token,
)


def test_checkout_sends_price_metadata_and_idempotency_key_from_the_database(client, db, stripe_fake):
    # The price comes from the plans table, not from code or the client.
    db.execute("UPDATE plans SET price_minor = 3150, name = 'Quarter hour video' WHERE code = 'video15'")
    resp = client.get(
        f"/api/checkout/create-session?plan=video15&workshop_id={AUTOPRO}&routing_type=hybrid", headers=auth()
    )
    assert resp.status_code == 303, resp.get_json()

    purchase = db.execute(
        "SELECT id, status, amount_minor, currency, routing_type, preferred_workshop_id, stripe_checkout_session_id "
        "FROM checkout_purchases"
    ).fetchall()
    assert len(purchase) == 1
    pid, status, amount, currency, routing, workshop, cs_id = purchase[0]
    assert (status, amount, currency, routing, str(workshop)) == ("pending", 3150, "usd", "hybrid", AUTOPRO)

    assert len(stripe_fake.requests) == 1
    sent = stripe_fake.requests[0]
    p = sent["params"]
    assert sent["idempotency_key"] == str(pid)
    assert sent["authorization"] == "Bearer sk_test_fake_" + "x" * 24
    assert p["mode"] == "payment"
    assert p["client_reference_id"] == str(pid)
    assert p["line_items[0][price_data][unit_amount]"] == "3150"
    assert p["line_items[0][price_data][currency]"] == "usd"
    assert p["line_items[0][price_data][product_data][name]"] == "Quarter hour video"
    assert p["line_items[0][quantity]"] == "1"
    assert p["metadata[plan]"] == "video15"
    assert p["metadata[customer_id]"] == ALICE
    assert p["metadata[customer_email]"] == ALICE_EMAIL
    assert p["metadata[workshop_id]"] == AUTOPRO
    assert p["metadata[routing_type]"] == "hybrid"
    assert p["customer_email"] == ALICE_EMAIL
    assert p["success_url"] == "https://ssr.example/checkout/success?session_id={CHECKOUT_SESSION_ID}"

    # The Checkout Session id is recorded on the purchase and the customer is sent to its URL.
    assert cs_id in stripe_fake.sessions
    assert resp.headers["Location"] == stripe_fake.sessions[cs_id]["url"]
    assert stripe_fake.sessions[cs_id]["amount_total"] == 3150


def test_checkout_broadcast_by_default_and_customer_from_token_only(client, db, stripe_fake):
    bob = "33333333-3333-4333-8333-000000000002"
    # A customer_id parameter is not accepted: the customer is the token's subject.
    resp = client.get(f"/api/checkout/create-session?plan=diag45&customer_id={bob}", headers=auth(ALICE))
    assert resp.status_code == 400
    assert resp.get_json()["error"]["field"] == "customer_id"
    assert stripe_fake.requests == []

    resp = client.get("/api/checkout/create-session?plan=diag45", headers=auth(bob))
    assert resp.status_code == 303
    row = db.execute("SELECT customer_id, routing_type, preferred_workshop_id, amount_minor FROM checkout_purchases").fetchone()
    assert (str(row[0]), row[1], row[2], row[3]) == (bob, "broadcast", None, 6900)
    p = stripe_fake.requests[0]["params"]
    assert p["metadata[customer_id]"] == bob
    assert p["metadata[customer_email]"] == "bob@customer.example"
    assert p["metadata[routing_type]"] == "broadcast"


BAD_QUERIES = [
    ("", "plan"),
    ("plan=", "plan"),
    ("plan=video999", "plan"),
    ("plan=retired", "plan"),
    ("plan=video15&workshop_id=not-a-uuid", "workshop_id"),
    ("plan=video15&workshop_id=99999999-9999-4999-8999-999999999999&routing_type=hybrid", "workshop_id"),
    (f"plan=video15&workshop_id={SHADY}&routing_type=workshop_only", "workshop_id"),
    (f"plan=video15&workshop_id={FRESH}&routing_type=hybrid", "workshop_id"),
    (f"plan=video15&workshop_id={AUTOPRO}&routing_type=nearest", "routing_type"),
    ("plan=video15&routing_type=workshop_only", "workshop_id"),
    ("plan=video15&intake_id=123", "intake_id"),
    ("plan=video15&intake_id=99999999-9999-4999-8999-999999999999", "intake_id"),
    ("plan=video15&amount=1", "amount"),
    ("plan=video15&plan=diag45", "plan"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
def test_bad_checkout_parameter_is_400_naming_the_field_and_writes_nothing(client, db, stripe_fake, query, field):
    db.execute(
        "INSERT INTO plans (code, name, price_minor, currency, duration_minutes, is_active) "
        "VALUES ('retired', 'Old plan', 1000, 'usd', 10, FALSE)"
    )
    before = snapshot(db)
    resp = client.get(f"/api/checkout/create-session?{query}", headers=auth())
    assert resp.status_code == 400, resp.get_json()
    body = resp.get_json()
    assert body["ok"] is False
    assert body["error"]["field"] == field
    assert snapshot(db) == before
    assert stripe_fake.requests == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic YWxpY2U6cHc="}, 401),
        ({"Authorization": "Bearer not.a.jwt"}, 401),
        ({"Authorization": "Bearer " + token(secret="another-secret-" + "z" * 32)}, 401),
        ({"Authorization": "Bearer " + token(ttl=-60)}, 401),
        ({"Authorization": "Bearer " + token(sub="alice")}, 401),
        ({"Authorization": "Bearer " + token(role="admin")}, 401),
        ({"Authorization": "Bearer " + token(sub=ANA, role="mechanic")}, 403),
        ({"Authorization": "Bearer " + token(sub="99999999-9999-4999-8999-999999999999")}, 403),
    ],
)
def test_checkout_requires_a_valid_customer_token(client, db, stripe_fake, headers, status):
    before = snapshot(db)
    resp = client.get("/api/checkout/create-session?plan=video15", headers=headers)
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["ok"] is False
    if status == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(db) == before
    assert stripe_fake.requests == []


def test_token_without_expiry_is_refused(client, db):
    import jwt

    from tests.app.conftest import JWT_SECRET

    raw = jwt.encode({"sub": ALICE, "role": "customer", "iat": int(time.time())}, JWT_SECRET, algorithm="HS256")
    resp = client.get("/api/checkout/create-session?plan=video15", headers={"Authorization": f"Bearer {raw}"})
    assert resp.status_code == 401


def test_stripe_failure_is_502_and_the_purchase_stays_pending_without_session(client, db, stripe_fake):
    stripe_fake.fail_next(500, times=5)  # more than the client's retries
    resp = client.get("/api/checkout/create-session?plan=video15", headers=auth())
    assert resp.status_code == 502
    assert resp.get_json()["error"]["code"] == "payment_provider_error"
    rows = db.execute("SELECT status, stripe_checkout_session_id FROM checkout_purchases").fetchall()
    assert rows == [("pending", None)]
    assert db.execute("SELECT count(*) FROM sessions WHERE stripe_checkout_session_id NOT LIKE 'cs_test_demo%'").fetchone()[0] == 0


def test_retried_stripe_call_reuses_the_idempotency_key(client, db, stripe_fake):
    stripe_fake.fail_next(500, times=1)  # the stripe library retries with the same key
    resp = client.get("/api/checkout/create-session?plan=video15", headers=auth())
    assert resp.status_code == 303
    pid = db.execute("SELECT id FROM checkout_purchases").fetchone()[0]
    keys = [r["idempotency_key"] for r in stripe_fake.requests]
    assert keys == [str(pid)] * len(keys)
    assert len(stripe_fake.sessions) == 1


def test_app_refuses_to_start_without_webhook_secret(app_config):
    cfg = dict(app_config, STRIPE_WEBHOOK_SECRET="")
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        create_app(cfg)


@pytest.mark.parametrize("missing", ["DATABASE_URL", "STRIPE_SECRET_KEY", "JWT_SECRET", "PUBLIC_BASE_URL"])
def test_app_refuses_to_start_without_required_setting(app_config, monkeypatch, missing):
    monkeypatch.delenv(missing, raising=False)
    cfg = dict(app_config)
    cfg[missing] = None
    with pytest.raises(ConfigError, match=missing):
        create_app(cfg)
