"""What `make run` offers a person: the local Stripe fake plays the hosted Checkout page,
sends the app a really signed webhook, and the paid session is routed."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import stripe

from dev.stripe_fake import StripeFake
from tests.app.conftest import ALICE, ANA, AUTOPRO, WEBHOOK_SECRET, auth
from tests.app.test_app_server import GUNICORN, ROOT, free_port, wait_until_up
from tests.test_stripe_fake import SCHEMA_OF, validate
from tests.workerutil import worker_url
from worker.refunds import process_due_refunds


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - local test servers
    try:
        with opener.open(req) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def test_demo_checkout_page_pays_and_the_webhook_fulfills(app_config, seeded_conn, db_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake = StripeFake(api_keys=(app_config["STRIPE_SECRET_KEY"],))
    fake.demo_webhook = (base + "/api/stripe/webhook", WEBHOOK_SECRET)
    fake.start()
    env = dict(os.environ, **{k: str(v) for k, v in app_config.items()})
    env["STRIPE_API_BASE"] = fake.url
    env["PUBLIC_BASE_URL"] = base
    proc = subprocess.Popen(
        [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "app.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(base, proc)
        status, headers = get(f"{base}/api/checkout/create-session?plan=video15&workshop_id={AUTOPRO}"
                              "&routing_type=workshop_only", auth(ALICE))
        assert status == 303
        pay_url = headers["Location"]
        assert pay_url.startswith(fake.url + "/c/pay/cs_test_")
        cs_id = pay_url.rsplit("/", 1)[1]
        before = seeded_conn.execute("SELECT count(*) FROM sessions").fetchone()[0]

        fake.hold_webhooks()  # as with Stripe, the webhook may come after the customer is back
        status, headers = get(pay_url)  # the customer "pays" on the hosted page
        assert status == 303
        assert headers["Location"] == f"{base}/checkout/success?session_id={cs_id}"
        assert fake.deliveries == []

        # The success page (the redirect's target) fulfils before the webhook came.
        with urllib.request.urlopen(headers["Location"]) as r:  # noqa: S310 - local test server
            page = json.loads(r.read())
        assert page["fulfillment_outcome"] == "fulfilled" and page["fulfilled"] is True

        fake.release_webhooks()
        deadline = time.monotonic() + 30
        while not fake.deliveries and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(d["type"], d["status"]) for d in fake.deliveries] == [("checkout.session.completed", 200)]
        assert json.loads(fake.deliveries[0]["body"])["outcome"] == "already_fulfilled"

        row = seeded_conn.execute(
            "SELECT s.preferred_workshop_id::text, r.routing_type, r.status FROM sessions s "
            "JOIN session_requests r ON r.session_id = s.id WHERE s.stripe_checkout_session_id = %s", (cs_id,)
        ).fetchone()
        assert row == (AUTOPRO, "workshop_only", "pending")
        assert seeded_conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == before + 1
        # A mechanic of the preferred workshop is offered it.
        seeded_conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (ANA,))
        offered = seeded_conn.execute(
            "SELECT count(*) FROM get_mechanic_offers(%s, 50) o JOIN sessions s ON s.id = o.session_id "
            "WHERE s.stripe_checkout_session_id = %s", (ANA, cs_id)
        ).fetchone()[0]
        assert offered == 1

        # The customer cancels; the worker refunds; the fake sends the refund's events, which
        # the app verifies, re-fetches and records.
        req = urllib.request.Request(f"{base}/api/session-requests/{page['session_request_id']}/cancel",  # noqa: S310
                                     method="POST", headers=auth(ALICE))
        with urllib.request.urlopen(req) as r:  # noqa: S310 - local test server
            assert json.loads(r.read())["request"]["refund_status"] == "pending"
        client = stripe.StripeClient(app_config["STRIPE_SECRET_KEY"], base_addresses={"api": fake.url})
        assert process_due_refunds(worker_url(db_url), client)["succeeded"] == 1  # the worker, as its login
        deadline = time.monotonic() + 30
        while len(fake.deliveries) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        refund_events = sorted((d["type"], d["status"], json.loads(d["body"])["outcome"]) for d in fake.deliveries[1:])
        assert refund_events == [("charge.refunded", 200, "refund_updated"), ("refund.created", 200, "refund_updated")]
        assert seeded_conn.execute("SELECT status FROM sessions WHERE stripe_checkout_session_id = %s",
                                   (cs_id,)).fetchone() == ("refunded",)
        for event in fake.events:  # what the demo sent is what Stripe would send
            validate(event, "event")
            validate(event["data"]["object"], SCHEMA_OF[event["data"]["object"]["object"]])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()
        fake.stop()
