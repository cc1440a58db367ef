"""Abuse limits (app/limits.py, rate_limit_take in Postgres): sign-in, checkout creation and the
unauthenticated Checkout Session lookups answer 429 with Retry-After past their limits, per
client address and per identity, independently; the counters are shared by the gunicorn
workers; X-Forwarded-For counts only when a proxy is configured."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from app import ConfigError, create_app
from tests.app.conftest import ALICE, ANA, AUTOPRO, CheckedClient, auth, snapshot, token
from tests.app.live_server import serve
from tests.app.test_pages import csrf_of

BOB = "33333333-3333-4333-8333-000000000002"


def limited_app(app_config, **limits):
    return create_app({**app_config, **limits})


def sign_in(c, sub=ALICE, role="customer", **kw):
    page = c.get("/account/sign-in", **kw)
    return c.post("/account/sign-in", data={"token": token(sub, role), "csrf_token": csrf_of(page)}, **kw)


def assert_limited(resp, json_body=True):
    assert resp.status_code == 429, resp.get_data(as_text=True)[:300]
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= 600
    if json_body:
        body = resp.get_json()
        assert body["ok"] is False and body["error"]["code"] == "rate_limited"
        assert "retry in" in body["error"]["message"]
    return wait


def test_the_sign_in_past_the_limit_gets_429_per_address_and_per_identity(app_config, seeded_conn):
    app = limited_app(app_config, RATE_LIMIT_SIGN_IN_PER_ADDRESS="5/60", RATE_LIMIT_SIGN_IN_PER_IDENTITY="2/60")
    try:
        here = {"environ_base": {"REMOTE_ADDR": "192.0.2.10"}}
        c = app.test_client()
        assert [sign_in(c, **here).status_code for _ in range(2)] == [303, 303]
        # The third with Alice's token: her identity's limit; JSON for a client that asks for JSON.
        page = c.get("/account/sign-in", **here)
        resp = c.post("/account/sign-in", data={"token": token(), "csrf_token": csrf_of(page)},
                      headers={"Accept": "application/json"}, **here)
        assert_limited(resp)
        # A browser gets the HTML error page, with Retry-After too.
        page = c.get("/account/sign-in", **here)
        html = c.post("/account/sign-in", data={"token": token(), "csrf_token": csrf_of(page)},
                      headers={"Accept": "text/html"}, **here)
        assert_limited(html, json_body=False)
        assert "text/html" in html.headers["Content-Type"] and "retry in" in html.get_data(as_text=True)
        # Another identity from the same address: its own count (the 5th attempt from this address)...
        assert sign_in(c, ANA, "mechanic", **here).status_code == 303
        # ... until the address's 5 are used up: now anyone from there waits.
        assert_limited(sign_in(c, "33333333-3333-4333-8333-000000000003", headers={"Accept": "application/json"},
                               **here))
        other = app.test_client()
        there = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
        assert sign_in(other, ANA, "mechanic", **there).status_code == 303  # another address, Ana's 2nd
        assert sign_in(other, **there).status_code == 429  # Alice's identity is still limited
        # Two addresses, two identities: Carol's attempt, refused by the address, took nothing from her.
        assert {k for (k,) in seeded_conn.execute("SELECT key FROM ssr_private.rate_limit_counters")} == {
            "sign_in:address:192.0.2.10", "sign_in:address:198.51.100.7", f"sign_in:identity:{ALICE}",
            f"sign_in:identity:{ANA}"}
    finally:
        app.extensions["db_pool"].close()


def test_checkout_creation_is_limited_per_customer_and_writes_nothing_past_it(app_config, seeded_conn, stripe_fake):
    app = limited_app(app_config, RATE_LIMIT_CHECKOUT_PER_IDENTITY="2/600", RATE_LIMIT_CHECKOUT_PER_ADDRESS="5/600")
    try:
        client = CheckedClient(app)
        body = {"plan": "video15", "workshop_id": AUTOPRO, "routing_type": "workshop_only"}
        for _ in range(2):
            assert client.post("/api/checkout/sessions", json=body, headers=auth()).status_code == 201
        before, stripe_calls = snapshot(seeded_conn), len(stripe_fake.requests)
        assert_limited(client.post("/api/checkout/sessions", json=body, headers=auth()))
        assert_limited(client.get(f"/api/checkout/create-session?plan=video15&workshop_id={AUTOPRO}", headers=auth()))
        assert snapshot(seeded_conn) == before and len(stripe_fake.requests) == stripe_calls  # no row, no Stripe call
        # Bob is another customer: his own count, until the address's 5 attempts (refused ones count) are used;
        # what the address refused does not count on Bob.
        assert client.post("/api/checkout/sessions", json=body, headers=auth(BOB)).status_code == 201
        assert_limited(client.post("/api/checkout/sessions", json=body, headers=auth(BOB)))  # the address's 6th
        # The booking form: the HTML page, 429 with Retry-After.
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = "203.0.113.5"
        sign_in(browser, BOB)
        form = browser.get(f"/workshops/{AUTOPRO}/book")
        resp = browser.post(f"/workshops/{AUTOPRO}/book", data={"plan": "video15", "routing_type": "workshop_only",
                                                                "csrf_token": csrf_of(form)})
        assert resp.status_code == 303  # Bob's second, from a new address
        resp = browser.post(f"/workshops/{AUTOPRO}/book", data={"plan": "video15", "routing_type": "workshop_only",
                                                                "csrf_token": csrf_of(form)})
        assert_limited(resp, json_body=False)
        assert "text/html" in resp.headers["Content-Type"]
    finally:
        app.extensions["db_pool"].close()


def test_lookups_by_checkout_session_id_are_limited_before_stripe_is_asked(app_config, seeded_conn, stripe_fake):
    app = limited_app(app_config, RATE_LIMIT_LOOKUP_PER_IDENTITY="2/60", RATE_LIMIT_LOOKUP_PER_ADDRESS="5/60")
    try:
        client = CheckedClient(app)
        cs = "cs_test_" + uuid.uuid4().hex
        assert [client.get(f"/checkout/success?session_id={cs}").status_code for _ in range(2)] == [404, 404]
        calls = len(stripe_fake.retrievals)
        assert_limited(client.get(f"/checkout/success?session_id={cs}"))  # the same cs_ id: its limit
        assert_limited(client.get(f"/api/checkout/sessions/{cs}"))
        assert len(stripe_fake.retrievals) == calls == 2  # the refused one never reached Stripe
        # Other ids (a guesser's) count on the address, which counts every attempt: 5 in all (4 so far).
        assert client.get("/api/checkout/sessions/cs_test_" + uuid.uuid4().hex).status_code == 404
        assert_limited(client.get("/api/checkout/sessions/cs_test_" + uuid.uuid4().hex))
        # A spoofed X-Forwarded-For changes nothing unless a proxy is configured.
        spoofed = {"X-Forwarded-For": "192.0.2.99"}
        assert_limited(client.get("/api/checkout/sessions/cs_test_" + uuid.uuid4().hex, headers=spoofed))
    finally:
        app.extensions["db_pool"].close()
    proxied = limited_app(app_config, RATE_LIMIT_LOOKUP_PER_ADDRESS="1/60", RATE_LIMIT_TRUSTED_PROXIES="1")
    try:
        client = CheckedClient(proxied)
        one = {"X-Forwarded-For": "192.0.2.50, 10.0.0.1"}  # the proxy (one hop) saw 10.0.0.1
        assert client.get("/api/checkout/sessions/cs_test_" + uuid.uuid4().hex, headers=one).status_code == 404
        assert_limited(client.get("/api/checkout/sessions/cs_test_" + uuid.uuid4().hex,
                                  headers={"X-Forwarded-For": "192.0.2.51, 10.0.0.1"}))
        assert client.get("/api/checkout/sessions/cs_test_" + uuid.uuid4().hex,
                          headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 404
    finally:
        proxied.extensions["db_pool"].close()


@pytest.mark.parametrize("bad", ["10", "10/0", "x/60", "0/60", "10/100000"])
def test_a_bad_limit_refuses_to_start(app_config, bad):
    with pytest.raises(ConfigError, match="RATE_LIMIT_SIGN_IN_PER_ADDRESS"):
        create_app({**app_config, "RATE_LIMIT_SIGN_IN_PER_ADDRESS": bad})


def test_the_limits_are_shared_by_the_gunicorn_workers(app_config, seeded_conn):
    """Two worker processes, one count: the counters are in Postgres, not in a process."""
    with serve(app_config, workers=2, RATE_LIMIT_LOOKUP_PER_ADDRESS="6/60") as (base, _fake, _proc):
        statuses, retry = [], None
        for _ in range(8):
            try:
                urllib.request.urlopen(f"{base}/api/checkout/sessions/cs_test_{uuid.uuid4().hex}")  # noqa: S310
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
                if exc.code == 429:
                    retry = exc.headers["Retry-After"]
                    assert json.loads(exc.read())["error"]["code"] == "rate_limited"
        assert statuses == [404] * 6 + [429] * 2 and retry and int(retry) >= 1
        assert seeded_conn.execute("SELECT hits FROM ssr_private.rate_limit_counters "
                                   "WHERE key = 'lookup:address:127.0.0.1'").fetchone() == (7,)
