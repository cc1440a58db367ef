"""The minimal correct Stripe fulfillment webhook: the yardstick of the app's (bench/e2e.py).

What any correct handler must do, and nothing else: verify the signature on the raw body with the
`stripe` library (400 when it fails), re-fetch the Checkout Session from Stripe's API with the
real StripeClient (the payload is not trusted; one kept-alive requests.Session per process, as
the app has), and record the purchase of a paid session in one durable commit: one
`INSERT ... ON CONFLICT DO NOTHING` (a retried delivery changes nothing), on an autocommit
connection from a psycopg_pool pool of the app's sizes. A plain WSGI callable, served by the
same gunicorn settings as the app (gunicorn.conf.py, bench/gunicorn.py):

    gunicorn bench.reference_webhook:application

Environment: REFERENCE_DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE,
POOL_MIN_SIZE / POOL_MAX_SIZE. `ensure_table(conn)` creates its one table. Not part of the app.
"""

from __future__ import annotations

import json
import os
import re
import threading

import psycopg
import requests
import stripe

TABLE = "bench_reference_purchases"
MAX_BODY = 64 * 1024
CS_ID = re.compile(r"^cs_[A-Za-z0-9_]+$")
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    checkout_session_id text PRIMARY KEY,
    client_reference_id text NOT NULL,
    amount_total bigint NOT NULL,
    currency text NOT NULL,
    event_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = (f"INSERT INTO {TABLE} (checkout_session_id, client_reference_id, amount_total, currency, event_id) "
          "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (checkout_session_id) DO NOTHING")


def ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


class _State:
    """Per process (gunicorn forks the workers): the pool and the Stripe client, made on first use."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pool = None
        self.stripe = None

    def get(self):
        if self.pool is None:
            with self.lock:
                if self.pool is None:
                    from psycopg_pool import ConnectionPool

                    session = requests.Session()
                    session.trust_env = False
                    self.stripe = stripe.StripeClient(
                        os.environ["STRIPE_SECRET_KEY"], base_addresses={"api": os.environ["STRIPE_API_BASE"]},
                        max_network_retries=2, http_client=stripe.RequestsClient(timeout=5.0, session=session))
                    self.pool = ConnectionPool(
                        os.environ["REFERENCE_DATABASE_URL"], min_size=int(os.environ.get("POOL_MIN_SIZE", "1")),
                        max_size=int(os.environ.get("POOL_MAX_SIZE", "4")), timeout=5.0,
                        kwargs={"autocommit": True, "application_name": f"ssr-bench-ref:{os.getpid()}"}, open=True)
        return self.pool, self.stripe


STATE = _State()


def _answer(start_response, status: str, body: dict):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def record_purchase(pool, session: dict, event_id: str) -> None:
    with pool.connection() as conn:
        conn.execute(INSERT, (session["id"], session["client_reference_id"], session["amount_total"],
                              session["currency"], event_id), prepare=True)


def application(environ, start_response):
    if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == "/healthz":
        return _answer(start_response, "200 OK", {"ok": True})
    if environ.get("REQUEST_METHOD") != "POST":
        return _answer(start_response, "405 Method Not Allowed", {"error": "method"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > MAX_BODY:
        return _answer(start_response, "413 Payload Too Large", {"error": "body"})
    payload = environ["wsgi.input"].read(length)
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), environ.get("HTTP_STRIPE_SIGNATURE") or "",
                                              os.environ["STRIPE_WEBHOOK_SECRET"], stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
        cs_id = event["data"]["object"]["id"] if event_type == "checkout.session.completed" else None
        if cs_id is not None and not (isinstance(cs_id, str) and CS_ID.fullmatch(cs_id)):
            raise ValueError("not a Checkout Session id")
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError):
        return _answer(start_response, "400 Bad Request", {"error": "signature or payload"})
    if cs_id is None:
        return _answer(start_response, "200 OK", {"received": True, "ignored": True})
    pool, client = STATE.get()
    try:
        session = client.raw_request("get", f"/v1/checkout/sessions/{cs_id}").data
    except stripe.StripeError:
        return _answer(start_response, "503 Service Unavailable", {"error": "stripe"})
    if session.get("payment_status") == "paid":
        try:
            record_purchase(pool, session, event_id)
        except psycopg.Error:
            return _answer(start_response, "503 Service Unavailable", {"error": "database"})
    return _answer(start_response, "200 OK", {"received": True})
