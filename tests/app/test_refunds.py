"""Refunds: owed in the transaction of the outcome, made once at Stripe (the fake, real
library, real signatures) by the worker jobs of worker/refunds.py, across concurrent
workers and a worker killed between the Stripe call and its commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import stripe

from tests.app.conftest import ALICE, AUTOPRO, WEBHOOK_SECRET, auth, deliver, event_payload
from tests.workerutil import worker_url
from worker.refunds import process_due_refunds, reconcile

ROOT = Path(__file__).resolve().parents[2]
FAR = "now() + interval '1 day'"


def stripe_client(app_config) -> stripe.StripeClient:
    return stripe.StripeClient(app_config["STRIPE_SECRET_KEY"], base_addresses={"api": app_config["STRIPE_API_BASE"]},
                               max_network_retries=2)


def paid_request(client, db, stripe_fake, query=f"plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only"):
    """Checkout, pay, signed webhook: (purchase id, cs id, session id, request id)."""
    assert client.get(f"/api/checkout/create-session?{query}", headers=auth()).status_code == 303
    pid, cs_id = db.execute("SELECT id, stripe_checkout_session_id FROM checkout_purchases "
                            "ORDER BY created_at DESC LIMIT 1").fetchone()
    body = deliver(client, event_payload(stripe_fake.mark_paid(cs_id))).get_json()
    assert body["outcome"] == "fulfilled", body
    return pid, cs_id, body["session_id"], body["session_request_id"]


def refund_row(db, pid):
    return db.execute("SELECT reason, status, amount_minor, currency, stripe_refund_id, attempts, stripe_payment_intent_id "
                      "FROM refunds WHERE purchase_id = %s", (pid,)).fetchone()


def refund_calls(stripe_fake):
    return [c for c in stripe_fake.calls if c["method"] == "POST" and c["path"] == "/v1/refunds"]


def test_every_strategys_expiry_owes_one_refund_and_the_worker_makes_it_once(client, db, stripe_fake, app_config, db_url):
    bought = [paid_request(client, db, stripe_fake, q) for q in (
        f"plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only",
        f"plan=video15&workshop_id={AUTOPRO}&routing_type=hybrid",
        "plan=video30&routing_type=broadcast",
    )]
    assert db.execute("SELECT count(*) FROM refunds").fetchone() == (0,)
    assert db.execute(f"SELECT expired FROM ssr_private.sweep_session_requests({FAR})").fetchone() == (3,)
    # Owed in the sweep's transaction, one per purchase; the sessions will not take place.
    for pid, _cs, sid, _rid in bought:
        assert refund_row(db, pid)[:2] == ("expired_no_mechanic", "pending")
        assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("cancelled",)
    assert db.execute(f"SELECT expired FROM ssr_private.sweep_session_requests({FAR})").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM refunds").fetchone() == (3,)

    assert process_due_refunds(worker_url(db_url), stripe_client(app_config)) == {"succeeded": 3, "pending": 0, "failed": 0,
                                                                       "retry": 0}
    for pid, cs_id, sid, _rid in bought:
        _reason, status, amount, currency, re_id, attempts, pi = refund_row(db, pid)
        assert (status, attempts) == ("succeeded", 1)
        made = stripe_fake.refunds[re_id]
        assert (made["payment_intent"], made["amount"], made["currency"]) == (
            stripe_fake.sessions[cs_id]["payment_intent"], amount, currency)
        assert pi == made["payment_intent"]
        assert made["metadata"]["purchase_id"] == str(pid)
        assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("refunded",)
    with psycopg.connect(worker_url(db_url), autocommit=True) as worker_conn:  # a worker passes its connection
        assert process_due_refunds(worker_conn, stripe_client(app_config)) == {
            "succeeded": 0, "pending": 0, "failed": 0, "retry": 0}
    assert len(stripe_fake.refunds) == 3 and len(refund_calls(stripe_fake)) == 3
    # The idempotency key of each call is its refund row's id.
    keys = {c["idempotency_key"] for c in refund_calls(stripe_fake)}
    assert keys == {str(r[0]) for r in db.execute("SELECT id FROM refunds").fetchall()}


def test_twenty_concurrent_workers_make_one_stripe_refund_call(client, db, stripe_fake, app_config, db_url):
    pid, *_ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    hold = stripe_fake.hold("refunds.create")  # the winner stays inside its Stripe call, lock held
    results, errors = [], []
    start = threading.Barrier(20)

    def worker():
        try:
            start.wait(30)
            results.append(process_due_refunds(worker_url(db_url), stripe_client(app_config), 5))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    assert hold.reached.wait(60)
    deadline = time.monotonic() + 60  # the 19 others find nothing they may claim and return
    while len(results) + len(errors) < 19 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(results) == 19 and errors == []
    assert all(r == {"succeeded": 0, "pending": 0, "failed": 0, "retry": 0} for r in results)
    stripe_fake.unhold("refunds.create")
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 20
    assert len(refund_calls(stripe_fake)) == 1 and len(stripe_fake.refunds) == 1
    assert refund_row(db, pid)[1] == "succeeded"


def test_a_worker_killed_after_the_stripe_call_never_makes_a_second_refund(client, db, stripe_fake, app_config,
                                                                          db_url):
    pid, _cs_id, sid, _ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    hold = stripe_fake.hold("refunds.create")  # Stripe made the refund; its answer is held
    env = dict(os.environ, WORKER_DATABASE_URL=worker_url(db_url), STRIPE_SECRET_KEY=app_config["STRIPE_SECRET_KEY"],
               STRIPE_API_BASE=app_config["STRIPE_API_BASE"])
    proc = subprocess.Popen([sys.executable, "-m", "worker.refunds", "process", "--limit", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert hold.reached.wait(60), "the worker never called Stripe"
        assert len(stripe_fake.refunds) == 1
        proc.send_signal(signal.SIGKILL)  # dies before recording and committing
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        stripe_fake.unhold("refunds.create")
    assert proc.returncode == -signal.SIGKILL
    # Nothing of the dead worker's transaction was committed.
    _reason, status, _amount, _cur, re_id, attempts, _pi = refund_row(db, pid)
    assert (status, re_id, attempts) == ("pending", None, 0)

    # The next worker retries once the dead connection's lock is gone (bounded wait).
    deadline = time.monotonic() + 60
    counts = {}
    while time.monotonic() < deadline:
        counts = process_due_refunds(worker_url(db_url), stripe_client(app_config))
        if counts["succeeded"]:
            break
        time.sleep(0.1)
    assert counts["succeeded"] == 1
    calls = refund_calls(stripe_fake)
    assert len(calls) == 2 and calls[0]["idempotency_key"] == calls[1]["idempotency_key"]
    assert calls[1]["replayed"] is True
    assert len(stripe_fake.refunds) == 1  # one refund at Stripe
    _reason, status, _amount, _cur, re_id, attempts, _pi = refund_row(db, pid)
    assert (status, re_id, attempts) == ("succeeded", next(iter(stripe_fake.refunds)), 1)
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("refunded",)


def test_a_refund_webhook_updates_the_status_from_stripe_not_the_payload(client, db, stripe_fake, app_config, db_url):
    pid, cs_id, sid, _ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    stripe_fake.refund_status = "pending"  # Stripe is still processing it
    assert process_due_refunds(worker_url(db_url), stripe_client(app_config))["pending"] == 1
    re_id = refund_row(db, pid)[4]
    assert refund_row(db, pid)[1] == "pending" and re_id.startswith("re_")
    assert process_due_refunds(worker_url(db_url), stripe_client(app_config))["pending"] == 0  # not made twice

    # A payload claiming success while Stripe still says pending changes nothing.
    forged = dict(stripe_fake.public(stripe_fake.refunds[re_id]), status="succeeded")
    r = deliver(client, event_payload(forged, "refund.updated", "evt_refund_forged"))
    assert r.status_code == 200 and r.get_json()["outcome"] == "refund_updated"
    assert refund_row(db, pid)[1] == "pending"

    stripe_fake.refunds[re_id]["status"] = "succeeded"
    event = stripe_fake.event("refund.updated", stripe_fake.refunds[re_id], livemode=False)
    r = deliver(client, event_payload(event["data"]["object"], "refund.updated", event["id"]))
    body = r.get_json()
    assert r.status_code == 200 and body["outcome"] == "refund_updated" and body["refund_status"] == "succeeded"
    assert refund_row(db, pid)[1] == "succeeded"
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("refunded",)
    # charge.refunded re-fetches the payment intent's refunds: same answer, nothing undone.
    pi = stripe_fake.payment_intents[stripe_fake.sessions[cs_id]["payment_intent"]]
    r = deliver(client, event_payload(stripe_fake._charge_object(pi), "charge.refunded", "evt_charge_refunded"))
    assert r.get_json()["outcome"] == "refund_updated" and refund_row(db, pid)[1] == "succeeded"
    assert deliver(client, event_payload(forged, "refund.updated", "evt_charge_refunded")).get_json()["outcome"] == (
        "duplicate")
    # Signatures are checked as for every event.
    r = deliver(client, event_payload(forged, "refund.updated"), secret=WEBHOOK_SECRET + "x")
    assert r.status_code == 400


def test_reconciliation_settles_a_pending_refund_whose_webhook_was_lost(client, db, stripe_fake, app_config, db_url):
    pid, _cs, sid, _ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    stripe_fake.refund_status = "pending"
    assert process_due_refunds(worker_url(db_url), stripe_client(app_config))["pending"] == 1
    re_id = refund_row(db, pid)[4]
    stripe_fake.refunds[re_id]["status"] = "succeeded"  # its refund.updated never arrives
    reconcile(worker_url(db_url), stripe_client(app_config), hours=1)
    assert refund_row(db, pid)[1] == "pending"  # too recent to chase
    db.execute("UPDATE refunds SET updated_at = now() - interval '2 hours'")
    reconcile(worker_url(db_url), stripe_client(app_config), hours=1)
    assert refund_row(db, pid)[1] == "succeeded"
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("refunded",)


def test_a_refund_webhook_adopts_a_refund_its_worker_never_recorded(client, db, stripe_fake, app_config):
    pid, cs_id, _sid, _ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    (refund_id,) = db.execute("SELECT id FROM refunds WHERE purchase_id = %s", (pid,)).fetchone()
    # A refund made at Stripe by a worker that died before recording it; then Stripe's webhook.
    sc = stripe_client(app_config)
    made = sc.v1.refunds.create(params={"payment_intent": stripe_fake.sessions[cs_id]["payment_intent"],
                                        "metadata": {"refund_id": str(refund_id)}})
    r = deliver(client, event_payload(made.to_dict(), "refund.created"))
    assert r.get_json()["outcome"] == "refund_updated"
    assert refund_row(db, pid)[1] == "succeeded" and refund_row(db, pid)[4] == made.id
    # Someone else's refund is recorded as not ours.
    other = stripe_fake.add_session(amount_total=500, currency="usd")
    foreign = sc.v1.refunds.create(params={"payment_intent": other["payment_intent"]})
    assert deliver(client, event_payload(foreign.to_dict(), "refund.updated")).get_json()["outcome"] == "unknown_refund"


def test_fulfillment_rejected_after_payment_owes_a_refund(client, db, stripe_fake, app_config, db_url):
    assert client.get(f"/api/checkout/create-session?plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only",
                      headers=auth()).status_code == 303
    pid, cs_id = db.execute("SELECT id, stripe_checkout_session_id FROM checkout_purchases").fetchone()
    db.execute("UPDATE organizations SET status = 'suspended' WHERE id = %s", (AUTOPRO,))
    r = deliver(client, event_payload(stripe_fake.mark_paid(cs_id)))
    assert r.get_json()["outcome"] == "fulfillment_rejected"
    assert refund_row(db, pid)[:4] == ("fulfillment_rejected", "pending", 2900, "usd")
    assert db.execute("SELECT session_id FROM refunds").fetchone() == (None,)
    page = client.client.get(f"/checkout/success?session_id={cs_id}", headers={"Accept": "text/html"})
    assert "after your payment. We are refunding 29.00 USD to you in full." in page.get_data(as_text=True)
    assert process_due_refunds(worker_url(db_url), stripe_client(app_config))["succeeded"] == 1
    assert len(stripe_fake.refunds) == 1
    # The page and the polled state say what happened to the money, from the refund's row.
    page = client.client.get(f"/checkout/success?session_id={cs_id}", headers={"Accept": "text/html"}).get_data(
        as_text=True)
    refunded_at = db.execute("SELECT succeeded_at AT TIME ZONE 'UTC' FROM refunds WHERE purchase_id = %s",
                             (pid,)).fetchone()[0]
    assert f"Refunded 29.00 USD on {refunded_at:%d %b %Y}: it can take 5 to 10 business days" in page
    polled = client.client.get(f"/api/checkout/sessions/{cs_id}").get_json()
    assert (polled["state"], polled["refund_status"], polled["refund_amount_minor"], polled["refund_currency"]) == (
        "failed", "succeeded", 2900, "usd")
    # The webhook's retry finds the purchase settled and owes nothing more.
    assert deliver(client, event_payload(stripe_fake.sessions[cs_id], "checkout.session.async_payment_succeeded")
                   ).get_json()["outcome"] == "purchase_not_pending"
    assert db.execute("SELECT count(*) FROM refunds").fetchone() == (1,)


def test_stripe_errors_retry_with_backoff_or_fail_for_an_operator(client, db, stripe_fake, app_config, db_url):
    pid, cs_id, _sid, _ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    no_retries = stripe.StripeClient(app_config["STRIPE_SECRET_KEY"],
                                     base_addresses={"api": app_config["STRIPE_API_BASE"]})
    stripe_fake.fail_next(500)  # Stripe is down (this client does not retry by itself)
    assert process_due_refunds(worker_url(db_url), no_retries)["retry"] == 1
    status, attempts, later, error = db.execute(
        "SELECT status, attempts, next_attempt_at > now() + interval '20 seconds', last_error FROM refunds").fetchone()
    assert (status, attempts, later) == ("pending", 1, True) and "500" in error
    assert process_due_refunds(worker_url(db_url), stripe_client(app_config))["retry"] == 0  # not due yet
    first = db.execute("SELECT next_attempt_at - now() FROM refunds").fetchone()[0]
    db.execute("UPDATE refunds SET next_attempt_at = now()")
    stripe_fake.fail_next(500)
    assert process_due_refunds(worker_url(db_url), no_retries)["retry"] == 1
    second = db.execute("SELECT next_attempt_at - now() FROM refunds").fetchone()[0]
    assert second > first  # the backoff grows
    db.execute("UPDATE refunds SET next_attempt_at = now(), attempts = 30")
    stripe_fake.fail_next(500)
    process_due_refunds(worker_url(db_url), no_retries)
    capped = db.execute("SELECT next_attempt_at <= now() + interval '1 hour' FROM refunds").fetchone()
    assert capped == (True,)

    # Stripe refuses it for good (fully refunded elsewhere, e.g. from the dashboard): failed.
    pi = stripe_fake.sessions[cs_id]["payment_intent"]
    stripe_fake.payment_intents[pi]["_amount_refunded"] = stripe_fake.payment_intents[pi]["amount"]
    db.execute("UPDATE refunds SET next_attempt_at = now()")
    assert process_due_refunds(worker_url(db_url), stripe_client(app_config))["failed"] == 1
    status, error = db.execute("SELECT status, last_error FROM refunds WHERE purchase_id = %s", (pid,)).fetchone()
    assert status == "failed" and "already been refunded" in error
    assert stripe_fake.refunds == {}


def test_one_refund_per_purchase_is_a_database_rule(db, client, stripe_fake):
    pid, *_ = paid_request(client, db, stripe_fake)
    db.execute(f"SELECT ssr_private.sweep_session_requests({FAR})")
    first = db.execute("SELECT ssr_private.refund_enqueue(%s, 'request_cancelled')", (pid,)).fetchone()[0]
    assert first == db.execute("SELECT id FROM refunds").fetchone()[0]
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("INSERT INTO refunds (purchase_id, stripe_checkout_session_id, amount_minor, currency, reason) "
                   "SELECT purchase_id, stripe_checkout_session_id, 1, 'usd', 'request_cancelled' FROM refunds")
    with pytest.raises(psycopg.Error) as exc:
        db.execute("SELECT ssr_private.refund_enqueue(NULL, 'x')")
    assert exc.value.sqlstate == "SR400"
    with pytest.raises(psycopg.Error) as exc:
        db.execute("SELECT ssr_private.refund_enqueue(gen_random_uuid(), 'x')")
    assert exc.value.sqlstate == "SR404"
    db.execute("SELECT set_config('app.customer_id', %s, FALSE)", (ALICE,))  # acting for Alice
    unpaid = db.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', NULL, 'broadcast')",
                        (ALICE,)).fetchone()[0]
    with pytest.raises(psycopg.Error) as exc:  # no Checkout Session: nothing was paid
        db.execute("SELECT ssr_private.refund_enqueue(%s, 'request_cancelled')", (unpaid,))
    assert (exc.value.sqlstate, exc.value.diag.column_name) == ("SR400", "purchase_id")
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE refunds SET status = 'succeeded'")  # succeeded needs a Stripe refund and a time
    with pytest.raises(psycopg.Error) as exc:
        db.execute("SELECT ssr_private.refund_apply_stripe_status(%s, 're_x', 'done')", (first,))
    assert exc.value.sqlstate == "SR400"
    db.execute("SELECT ssr_private.refund_apply_stripe_status(%s, 're_one', 'succeeded')", (first,))
    with pytest.raises(psycopg.Error) as exc:  # bound to its Stripe refund
        db.execute("SELECT ssr_private.refund_apply_stripe_status(%s, 're_two', 'succeeded')", (first,))
    assert exc.value.sqlstate == "SR409"
    # Never backwards: a success is not made pending again ...
    db.execute("SELECT ssr_private.refund_apply_stripe_status(%s, 're_one', 'pending')", (first,))
    assert db.execute("SELECT status, stripe_status FROM refunds").fetchone() == ("succeeded", "succeeded")
    # ... but Stripe's failure is final, even after a success (the money came back to us).
    db.execute("SELECT ssr_private.refund_apply_stripe_status(%s, 're_one', 'failed')", (first,))
    assert db.execute("SELECT status, last_error FROM refunds").fetchone() == ("failed", "Stripe refund failed")
    db.execute("SELECT ssr_private.refund_apply_stripe_status(%s, 're_one', 'succeeded')", (first,))
    assert db.execute("SELECT status FROM refunds").fetchone() == ("failed",)


def test_the_worker_loop_expires_refunds_and_reconciles(client, db, stripe_fake, app_config, db_url):
    pid, _cs, sid, rid = paid_request(client, db, stripe_fake)
    db.execute("UPDATE session_requests SET expires_at = now() - interval '1 second' WHERE id = %s", (rid,))
    env = dict(os.environ, WORKER_DATABASE_URL=worker_url(db_url), STRIPE_SECRET_KEY=app_config["STRIPE_SECRET_KEY"],
               STRIPE_API_BASE=app_config["STRIPE_API_BASE"])
    res = subprocess.run([sys.executable, "-m", "worker", "--once"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "expired 1" in res.stdout + res.stderr and "succeeded 1" in res.stdout + res.stderr
    assert refund_row(db, pid)[:2] == ("expired_no_mechanic", "succeeded")
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("refunded",)
    assert db.execute("SELECT count(*) FROM reconciliation_runs WHERE finished_at IS NOT NULL").fetchone() == (1,)


def sqlstate(db, sql, args=()):
    with pytest.raises(psycopg.Error) as exc:
        db.execute(sql, args)
    return exc.value.sqlstate, exc.value.diag.column_name


def test_an_operator_cancel_owes_a_refund_too_and_the_money_functions_check_their_input(client, db, stripe_fake):
    pid, _cs, sid, rid = paid_request(client, db, stripe_fake)
    db.execute("SELECT ssr_private.cancel_session_request(%s, 'workshop closed')", (rid,))
    assert refund_row(db, pid)[:2] == ("request_cancelled", "pending")
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("cancelled",)
    (refund_id,) = db.execute("SELECT id FROM refunds").fetchone()

    assert sqlstate(db, "SELECT ssr_private.refund_record_attempt(NULL, NULL, NULL, NULL)") == ("SR400", "refund_id")
    assert sqlstate(db, "SELECT ssr_private.refund_record_attempt(%s, NULL, NULL, NULL)", (refund_id,)) == (
        "SR400", "stripe_refund_id")
    assert sqlstate(db, "SELECT ssr_private.refund_record_attempt(gen_random_uuid(), NULL, NULL, NULL, 'x')") == (
        "SR404", "refund_id")
    assert sqlstate(db, "SELECT * FROM handle_refund_event('nope', 'refund.updated', FALSE, '[]')") == (
        "SR400", "event_id")
    assert sqlstate(db, "SELECT * FROM handle_refund_event('evt_1', ' ', FALSE, '[]')") == ("SR400", "type")
    assert sqlstate(db, "SELECT * FROM handle_refund_event('evt_1', 'refund.updated', NULL, '[]')") == (
        "SR400", "livemode")
    assert sqlstate(db, "SELECT * FROM handle_refund_event('evt_1', 'refund.updated', FALSE, '{}')") == (
        "SR400", "refunds")
    assert sqlstate(db, "SELECT note_unresolved_checkout_session('x', NULL, 'e')") == ("SR400", "checkout_session_id")
    assert sqlstate(db, "SELECT * FROM ssr_private.reconciliation_run_start(now() + interval '1 hour')") == (
        "SR400", "created_since")
    assert sqlstate(db, "SELECT ssr_private.reconcile_checkout_session(NULL, 'cs_x', NULL, NULL, NULL, NULL)") == (
        "SR400", "run_id")
    assert sqlstate(db, "SELECT ssr_private.reconcile_checkout_session(999, 'cs_x', NULL, NULL, NULL, NULL)") == (
        "SR404", "run_id")
    run = db.execute("SELECT run_id FROM ssr_private.reconciliation_run_start(now() - interval '1 hour')").fetchone()[0]
    assert db.execute("SELECT ssr_private.reconcile_checkout_session(%s, 'cs_x', NULL, 'paid', 1, 'usd')", (run,)).fetchone() == (
        "unknown_purchase",)
    db.execute("SELECT ssr_private.reconciliation_run_finish(%s)", (run,))
    assert sqlstate(db, "SELECT ssr_private.reconciliation_run_finish(%s)", (run,)) == ("SR409", "run_id")
    assert sqlstate(db, "SELECT ssr_private.reconcile_checkout_session(%s, 'cs_x', NULL, NULL, NULL, NULL)", (run,)) == (
        "SR409", "run_id")
    assert sqlstate(db, "SELECT ssr_private.reconciliation_run_finish(NULL)") == ("SR400", "run_id")
    assert sqlstate(db, "SELECT ssr_private.reconciliation_run_finish(999)") == ("SR404", "run_id")
    assert db.execute("SELECT sessions_seen, problems FROM reconciliation_runs WHERE id = %s", (run,)).fetchone() == (
        1, 0)
    for bad in ("UPDATE refunds SET reason = 'because'", "UPDATE refunds SET amount_minor = 0",
                "UPDATE refunds SET currency = 'USD'", "UPDATE refunds SET stripe_refund_id = 'ch_1'",
                "UPDATE refunds SET status = 'done'"):
        with pytest.raises(psycopg.errors.CheckViolation):
            db.execute(bad)
