"""The checkout's smaller exposures: the seed's GET create-session takes a bearer token only (a
cross-site link carries the SameSite=Lax cookie); the webhook fails or expires a purchase only
when the re-fetched Checkout Session confirms it; the cs_ lookups tell a stable failure code,
never the database's failure_reason text; the access log never holds a cs_ id."""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.app.conftest import auth, deliver, event_payload, snapshot
from tests.app.test_app_server import GUNICORN, ROOT, free_port, wait_until_up
from tests.app.test_app_webhook import checkout, event_row, purchase
from tests.app.test_pages import signed_in

INTERNAL = "internal detail: constraint session_requests_x_chk on host db-7"


def test_create_session_get_refuses_the_session_cookie_alone(app, db, stripe_fake):
    """A signed-in customer's browser following a link from another site: no purchase."""
    browser, _ = signed_in(app)
    before = snapshot(db)
    resp = browser.get("/api/checkout/create-session?plan=video15")
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["ok"] is False and body["error"]["code"] == "unauthorized"
    assert "bearer token only" in body["error"]["message"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(db) == before and stripe_fake.requests == []
    # The bearer token still works, and the browser books with the POST form (tests/app/test_pages.py).
    assert browser.get("/api/checkout/create-session?plan=video15", headers=auth()).status_code == 303


@pytest.mark.parametrize(("event_type", "shown"), [
    ("checkout.session.expired", {}),                                            # still open
    ("checkout.session.expired", {"status": "complete", "payment_status": "paid"}),
    ("checkout.session.async_payment_failed", {}),                               # open: nothing was tried
    ("checkout.session.async_payment_failed", {"status": "complete", "payment_status": "paid"}),
])
def test_a_failing_event_the_session_does_not_confirm_changes_nothing(client, db, stripe_fake, event_type, shown):
    pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.update(cs_id, **shown)
    # The payload says what the event type says; Stripe's API (the fake) shows otherwise.
    payload = event_payload(dict(session, status="expired", payment_status="unpaid"), event_type, "evt_unconfirmed")
    resp = deliver(client, payload)
    assert resp.status_code == 200
    assert resp.get_json()["outcome"] == "unconfirmed"
    assert purchase(db, pid)[0] == "pending"
    assert event_row(db, "evt_unconfirmed") is None  # nothing recorded: nothing was decided


def test_a_confirmed_expiry_still_expires(client, db, stripe_fake):
    pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.update(cs_id, status="expired", url=None)
    assert deliver(client, event_payload(session, "checkout.session.expired", "evt_exp_ok")).get_json()["outcome"] == "expired"
    assert purchase(db, pid)[0] == "expired"


def failed_purchase(client, db, stripe_fake, reason: str) -> str:
    pid, cs_id = checkout(client, db, stripe_fake)
    db.execute("UPDATE checkout_purchases SET status = 'failed', failure_reason = %s WHERE id = %s", (reason, pid))
    return cs_id


@pytest.mark.parametrize(("reason", "code"), [
    ("fulfillment_rejected: " + INTERNAL, "fulfillment_rejected"),
    ("payment_failed", "payment_failed"),
    ("amount_mismatch", "amount_mismatch"),
    (INTERNAL, "failed"),
])
def test_the_cs_lookups_tell_a_stable_code_not_the_internal_reason(app, client, db, stripe_fake, reason, code):
    cs_id = failed_purchase(client, db, stripe_fake, reason)
    progress = client.get(f"/api/checkout/sessions/{cs_id}")
    success = client.get(f"/checkout/success?session_id={cs_id}")
    page = app.test_client().get(f"/checkout/success?session_id={cs_id}", headers={"Accept": "text/html"})
    for resp in (progress, success):
        assert resp.status_code == 200
        body = resp.get_json()
        assert "failure_reason" not in body and body["failure_code"] == code
        assert "internal" not in resp.get_data(as_text=True)
    assert page.status_code == 200 and "internal" not in page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    if code == "payment_failed":
        assert "Your payment failed. Nothing was charged." in text
    elif code == "failed":
        assert "Nothing was charged." in text


def test_the_access_log_redacts_checkout_session_ids(app_config, seeded_conn, tmp_path):
    """gunicorn as make run serves it (gunicorn.conf.py: its access log on stderr)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, **{k: str(v) for k, v in app_config.items()})
    env.update(PUBLIC_BASE_URL=base, LOG_FORMAT="text", GUNICORN_THREADS="4")
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                 "--workers", "1", "app.wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            wait_until_up(base, proc)
            for path in ("/checkout/success?session_id=cs_test_secretone1", "/api/checkout/sessions/cs_test_secrettwo2",
                         "/checkout/success?session_id=not-even-a-cs-id-secretthree"):
                try:
                    urllib.request.urlopen(base + path, timeout=10).close()  # noqa: S310 - the local test server
                except urllib.error.HTTPError as exc:
                    exc.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    access = [line for line in text.splitlines() if "gunicorn.access" in line]
    assert len([line for line in access if "/checkout/" in line]) == 3, text[-2000:]
    assert "secret" not in text, [line for line in text.splitlines() if "secret" in line]
    assert any("session_id=[redacted]" in line for line in access)
    assert any("/api/checkout/sessions/[redacted]" in line for line in access)
