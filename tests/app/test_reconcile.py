"""Reconciliation (worker/refunds.py reconcile): the paid Checkout Sessions Stripe lists are
fulfilled through the webhook's procedure when their webhook never came; runs and actions
are recorded; sessions Stripe answered 404 for stay reconcilable until they resolve."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import stripe

from tests.app.conftest import AUTOPRO, auth, deliver, event_payload
from tests.workerutil import worker_url
from worker.refunds import reconcile

ROOT = Path(__file__).resolve().parents[2]


def stripe_client(app_config) -> stripe.StripeClient:
    return stripe.StripeClient(app_config["STRIPE_SECRET_KEY"], base_addresses={"api": app_config["STRIPE_API_BASE"]})


def checkout(client, db, query="plan=video15"):
    assert client.get(f"/api/checkout/create-session?{query}", headers=auth()).status_code == 303
    return db.execute("SELECT id, stripe_checkout_session_id FROM checkout_purchases "
                      "ORDER BY created_at DESC LIMIT 1").fetchone()


def test_a_webhook_never_delivered_is_fulfilled_once_by_reconciliation(client, db, stripe_fake, app_config, db_url):
    lost_pid, lost_cs = checkout(client, db, f"plan=video15&workshop_id={AUTOPRO}&routing_type=hybrid")
    stripe_fake.mark_paid(lost_cs)  # paid; its webhook never arrives
    _done_pid, done_cs = checkout(client, db)
    assert deliver(client, event_payload(stripe_fake.mark_paid(done_cs))).get_json()["outcome"] == "fulfilled"
    _open_pid, _open_cs = checkout(client, db)  # not paid: left alone
    stripe_fake.add_session(amount_total=700, currency="usd")  # another integration's: not ours
    for _ in range(3):  # more sessions than one page
        checkout(client, db)

    run = reconcile(worker_url(db_url), stripe_client(app_config), hours=1, page_size=2)
    assert (run["sessions_seen"], run["fulfilled"], run["problems"], run["error"]) == (3, 1, 0, None)
    assert run["finished_at"] is not None
    status, sid, rid = db.execute("SELECT status, session_id, session_request_id FROM checkout_purchases WHERE id = %s",
                                  (lost_pid,)).fetchone()
    assert status == "fulfilled"
    assert db.execute("SELECT routing_type, status FROM session_requests WHERE id = %s", (rid,)).fetchone() == (
        "hybrid", "pending")
    actions = db.execute("SELECT stripe_checkout_session_id, purchase_id, action FROM reconciliation_actions "
                         "WHERE run_id = %s", (run["id"],)).fetchall()
    assert actions == [(lost_cs, lost_pid, "fulfilled")]
    # The listing asked Stripe for the window and walked every page.
    lists = [c for c in stripe_fake.calls if c["method"] == "GET" and c["path"] == "/v1/checkout/sessions"]
    assert len(lists) >= 2 and all("created[gte]" in c["params"] for c in lists)

    # Once: a second run and the late webhook find it done.
    again = reconcile(worker_url(db_url), stripe_client(app_config), hours=1)
    assert (again["fulfilled"], again["problems"]) == (0, 0)
    assert db.execute("SELECT count(*) FROM sessions WHERE stripe_checkout_session_id = %s", (lost_cs,)).fetchone() == (1,)
    late = deliver(client, event_payload(stripe_fake.sessions[lost_cs])).get_json()
    assert late["outcome"] == "already_fulfilled" and late["session_id"] == str(sid)


def test_an_unresolved_session_is_retried_until_stripe_shows_it(client, db, stripe_fake, app_config, db_url):
    pid, cs_id = checkout(client, db)
    paid = stripe_fake.mark_paid(cs_id)
    hidden = stripe_fake.sessions.pop(cs_id)  # the API answers 404 (e.g. a key of another account)
    r = deliver(client, event_payload(paid, event_id="evt_hidden"))
    assert r.status_code == 503
    run = reconcile(worker_url(db_url), stripe_client(app_config), hours=1)
    assert (run["fulfilled"], run["problems"]) == (0, 1)
    assert db.execute("SELECT action FROM reconciliation_actions WHERE run_id = %s", (run["id"],)).fetchall() == [
        ("not_retrievable",)]
    assert db.execute("SELECT attempts, resolved_at FROM unresolved_checkout_sessions").fetchone() == (2, None)

    stripe_fake.sessions[cs_id] = hidden  # the key is fixed; older than the window, so only the retry finds it
    stripe_fake.update(cs_id, created=hidden["created"] - 7 * 24 * 3600)
    run = reconcile(worker_url(db_url), stripe_client(app_config), hours=1)
    assert (run["sessions_seen"], run["fulfilled"], run["problems"]) == (1, 1, 0)
    assert db.execute("SELECT status FROM checkout_purchases WHERE id = %s", (pid,)).fetchone() == ("fulfilled",)
    assert db.execute("SELECT resolved_at IS NOT NULL FROM unresolved_checkout_sessions").fetchone() == (True,)
    # Stripe's retry of the refused event is now acknowledged, and finds it done.
    r = deliver(client, event_payload(paid, event_id="evt_hidden"))
    assert r.status_code == 200 and r.get_json()["outcome"] == "already_fulfilled"


def test_reconciliation_records_stripe_being_down_and_the_cli(client, db, stripe_fake, app_config, db_url):
    stripe_fake.fail_next(500)  # this client does not retry
    run = reconcile(worker_url(db_url), stripe_client(app_config), hours=1)
    assert run["error"] is not None and run["finished_at"] is not None
    _pid, cs_id = checkout(client, db)
    stripe_fake.mark_paid(cs_id)
    env = dict(os.environ, WORKER_DATABASE_URL=worker_url(db_url), STRIPE_SECRET_KEY=app_config["STRIPE_SECRET_KEY"],
               STRIPE_API_BASE=app_config["STRIPE_API_BASE"])
    res = subprocess.run([sys.executable, "-m", "worker.refunds", "reconcile", "--hours", "1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "1 fulfilled" in res.stdout
    assert db.execute("SELECT count(*) FROM reconciliation_runs").fetchone() == (2,)
    env.pop("STRIPE_SECRET_KEY")
    res = subprocess.run([sys.executable, "-m", "worker.refunds", "reconcile"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "STRIPE_SECRET_KEY" in res.stderr
