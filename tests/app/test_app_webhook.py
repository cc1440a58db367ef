"""POST /api/stripe/webhook: real signatures, the session re-fetched from the Stripe fake,
fulfillment by one stored-procedure call; the database is checked after each delivery."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from app import create_app
from app.db import close_pools
from tests.app.conftest import (
    ALICE,
    AUTOPRO,
    CheckedClient,
    auth,
    deliver,
    event_payload,
    snapshot,
)


def checkout(client, db, stripe_fake, query=f"plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only"):
    resp = client.get(f"/api/checkout/create-session?{query}", headers=auth())
    assert resp.status_code == 303, resp.get_json()
    cs_id = resp.headers["Location"].rsplit("/", 1)[1]  # this checkout's session, not "the latest" by timestamp
    pid = db.execute("SELECT id FROM checkout_purchases WHERE stripe_checkout_session_id = %s", (cs_id,)).fetchone()[0]
    return str(pid), cs_id


def fulfilled_rows(db, cs_id):
    return db.execute(
        "SELECT s.id, s.customer_id, s.plan_code, s.amount_total_minor, s.currency, s.status, "
        "s.preferred_workshop_id, r.id, r.routing_type, r.preferred_workshop_id, r.status "
        "FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id "
        "WHERE s.stripe_checkout_session_id = %s",
        (cs_id,),
    ).fetchall()


def purchase(db, pid):
    return db.execute(
        "SELECT status, failure_reason, session_id, session_request_id FROM checkout_purchases WHERE id = %s", (pid,)
    ).fetchone()


def event_row(db, event_id):
    return db.execute("SELECT type, livemode, outcome, purchase_id FROM stripe_events WHERE id = %s", (event_id,)).fetchone()


def test_valid_completed_event_fulfils_once_with_the_routing_choice(client, db, stripe_fake):
    pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    resp = deliver(client, event_payload(session, event_id="evt_valid_1"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["outcome"] == "fulfilled"
    assert body["created"] is True

    rows = fulfilled_rows(db, cs_id)
    assert len(rows) == 1
    sid, customer, plan, amount, currency, status, s_pref, rid, routing, r_pref, r_status = rows[0]
    assert (str(customer), plan, amount, currency, status) == (ALICE, "video15", 2900, "usd", "waiting")
    assert (str(s_pref), routing, str(r_pref), r_status) == (AUTOPRO, "workshop_only", AUTOPRO, "pending")
    assert body["session_id"] == str(sid) and body["session_request_id"] == str(rid)
    assert purchase(db, pid) == ("fulfilled", None, sid, rid)
    assert event_row(db, "evt_valid_1") == ("checkout.session.completed", False, "fulfilled", uuid.UUID(pid))
    # The session was re-fetched from Stripe, not taken from the payload.
    assert cs_id in stripe_fake.retrievals


def test_payload_is_not_trusted_session_is_refetched(client, db, stripe_fake):
    pid, cs_id = checkout(client, db, stripe_fake)
    forged_view = dict(stripe_fake.sessions[cs_id], payment_status="paid", status="complete")
    before = snapshot(db)
    resp = deliver(client, event_payload(forged_view, event_id="evt_claims_paid"))
    assert resp.status_code == 200
    assert resp.get_json()["outcome"] == "awaiting_payment"
    assert fulfilled_rows(db, cs_id) == []
    assert purchase(db, pid)[0] == "pending"
    assert snapshot(db) == dict(before, stripe_events=before["stripe_events"] + 1)


def test_forged_signature_is_400_and_writes_nothing(client, db, stripe_fake):
    _, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    before = snapshot(db)
    resp = deliver(client, event_payload(session), secret="whsec_attacker_" + "a" * 32)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_signature"
    assert snapshot(db) == before
    assert stripe_fake.retrievals == []


def test_tampered_body_is_400(client, db, stripe_fake):
    from dev.stripe_fake import sign

    _, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    payload = event_payload(session)
    header = sign(payload, "whsec_test_" + "k" * 32)
    tampered = payload.replace(b'"livemode": false', b'"livemode": false ')
    before = snapshot(db)
    resp = deliver(client, tampered, header=header)
    assert resp.status_code == 400
    assert snapshot(db) == before


def test_missing_signature_header_is_400_and_writes_nothing(client, db, stripe_fake):
    _, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    before = snapshot(db)
    resp = client.post("/api/stripe/webhook", data=event_payload(session), headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["field"] == "Stripe-Signature"
    assert snapshot(db) == before


def test_stale_timestamp_is_400_and_writes_nothing(client, db, stripe_fake):
    _, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    before = snapshot(db)
    resp = deliver(client, event_payload(session), timestamp=int(time.time()) - 301 - 60)
    assert resp.status_code == 400
    assert "tolerance" in resp.get_json()["error"]["message"]
    assert snapshot(db) == before


def test_duplicate_event_id_answers_200_and_does_nothing(client, db, stripe_fake):
    _pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    payload = event_payload(session, event_id="evt_dup_1")
    assert deliver(client, payload).get_json()["outcome"] == "fulfilled"
    after_first = snapshot(db)
    again = deliver(client, payload)
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "duplicate"
    assert snapshot(db) == after_first
    assert len(fulfilled_rows(db, cs_id)) == 1
    # Another event about the same paid session (e.g. async_payment_succeeded) does not fulfil twice.
    other = deliver(client, event_payload(session, "checkout.session.async_payment_succeeded", "evt_dup_2"))
    assert other.get_json()["outcome"] == "already_fulfilled"
    assert len(fulfilled_rows(db, cs_id)) == 1
    assert snapshot(db)["stripe_events"] == after_first["stripe_events"] + 1


def test_twenty_concurrent_deliveries_of_one_event_make_exactly_one_session(app, db, stripe_fake):
    client = CheckedClient(app)
    pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    payload = event_payload(session, event_id="evt_storm")
    barrier = threading.Barrier(20)
    results: list = [None] * 20

    def worker(i):
        c = CheckedClient(app)
        barrier.wait()
        r = deliver(c, payload)
        results[i] = (r.status_code, r.get_json().get("outcome"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None and r[0] == 200 for r in results), results
    outcomes = sorted(r[1] for r in results)
    assert outcomes == ["duplicate"] * 19 + ["fulfilled"], outcomes
    assert len(fulfilled_rows(db, cs_id)) == 1
    assert db.execute("SELECT count(*) FROM stripe_events WHERE id = 'evt_storm'").fetchone()[0] == 1
    assert purchase(db, pid)[0] == "fulfilled"


def test_twenty_concurrent_distinct_events_for_one_session_make_exactly_one_session(app, db, stripe_fake):
    client = CheckedClient(app)
    _pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    barrier = threading.Barrier(20)
    results: list = [None] * 20

    def worker(i):
        kind = "checkout.session.completed" if i % 2 else "checkout.session.async_payment_succeeded"
        r = None
        c = CheckedClient(app)
        barrier.wait()
        r = deliver(c, event_payload(session, kind, f"evt_many_{i}"))
        results[i] = (r.status_code, r.get_json().get("outcome"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[1] for r in results) == ["already_fulfilled"] * 19 + ["fulfilled"], results
    assert len(fulfilled_rows(db, cs_id)) == 1
    assert db.execute("SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_many_%'").fetchone()[0] == 20


def test_unpaid_completed_then_async_payment_succeeded(client, db, stripe_fake):
    pid, cs_id = checkout(client, db, stripe_fake, query="plan=video30")
    session = stripe_fake.sessions[cs_id]  # e.g. a bank debit: completed but not yet paid
    r1 = deliver(client, event_payload(session, "checkout.session.completed", "evt_async_1"))
    assert r1.get_json()["outcome"] == "awaiting_payment"
    assert fulfilled_rows(db, cs_id) == []
    assert purchase(db, pid)[0] == "pending"
    assert event_row(db, "evt_async_1")[2] == "awaiting_payment"

    session = stripe_fake.mark_paid(cs_id)
    r2 = deliver(client, event_payload(session, "checkout.session.async_payment_succeeded", "evt_async_2"))
    assert r2.get_json()["outcome"] == "fulfilled"
    rows = fulfilled_rows(db, cs_id)
    assert len(rows) == 1
    assert rows[0][2:5] == ("video30", 4900, "usd")
    assert rows[0][8] == "broadcast"
    assert purchase(db, pid)[0] == "fulfilled"


def test_async_payment_failed_marks_the_purchase_failed(client, db, stripe_fake):
    pid, cs_id = checkout(client, db, stripe_fake)
    # As Stripe shows it when a delayed payment failed: the session complete, still unpaid
    # (the webhook acts only when the re-fetched session confirms the event).
    session = stripe_fake.update(cs_id, status="complete", url=None)
    r = deliver(client, event_payload(session, "checkout.session.async_payment_failed", "evt_fail_1"))
    assert r.status_code == 200 and r.get_json()["outcome"] == "payment_failed"
    assert purchase(db, pid) == ("failed", "payment_failed", None, None)
    assert fulfilled_rows(db, cs_id) == []
    # A late success for a failed purchase is not fulfilled.
    session = stripe_fake.mark_paid(cs_id)
    r = deliver(client, event_payload(session, "checkout.session.completed", "evt_fail_2"))
    assert r.get_json()["outcome"] == "purchase_not_pending"
    assert fulfilled_rows(db, cs_id) == []


def test_expired_marks_the_purchase_expired(client, db, stripe_fake):
    pid, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.update(cs_id, status="expired")
    r = deliver(client, event_payload(session, "checkout.session.expired", "evt_exp_1"))
    assert r.get_json()["outcome"] == "expired"
    assert purchase(db, pid)[0] == "expired"
    assert event_row(db, "evt_exp_1")[2] == "expired"


@pytest.mark.parametrize(("amount", "currency"), [(100, "usd"), (2900, "eur"), (29000, "usd")])
def test_amount_or_currency_mismatch_is_recorded_without_session(client, db, stripe_fake, amount, currency):
    pid, cs_id = checkout(client, db, stripe_fake)
    stripe_fake.mark_paid(cs_id)
    session = stripe_fake.update(cs_id, amount_total=amount, currency=currency)
    r = deliver(client, event_payload(session, event_id="evt_amount_1"))
    assert r.status_code == 200
    assert r.get_json()["outcome"] == "amount_mismatch"
    assert fulfilled_rows(db, cs_id) == []
    assert purchase(db, pid) == ("failed", "amount_mismatch", None, None)
    assert event_row(db, "evt_amount_1")[2] == "amount_mismatch"


def test_livemode_mismatch_is_400_and_writes_nothing(client, db, stripe_fake):
    _, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    before = snapshot(db)
    r = deliver(client, event_payload(session, event_id="evt_live_1", livemode=True))
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "livemode_mismatch"
    assert snapshot(db) == before
    assert fulfilled_rows(db, cs_id) == []


def test_live_key_refuses_test_mode_events(app_config, db, stripe_fake):
    live = create_app(dict(app_config, STRIPE_SECRET_KEY="sk_live_fake_" + "y" * 24))
    try:
        client = CheckedClient(live)
        session = stripe_fake.add_session(amount_total=2900, currency="usd")
        before = snapshot(db)
        r = deliver(client, event_payload(session, event_id="evt_live_2", livemode=False))
        assert r.status_code == 400
        assert r.get_json()["error"]["code"] == "livemode_mismatch"
        assert snapshot(db) == before
    finally:
        close_pools(live)


def test_session_of_someone_else_is_recorded_not_fulfilled(client, db, stripe_fake):
    foreign = stripe_fake.add_session(amount_total=2900, currency="usd", client_reference_id=None)
    before = snapshot(db)
    r = deliver(client, event_payload(foreign, event_id="evt_foreign"))
    assert r.status_code == 200 and r.get_json()["outcome"] == "unknown_purchase"
    assert snapshot(db) == dict(before, stripe_events=before["stripe_events"] + 1)


def test_other_event_types_answer_200_and_are_recorded(client, db):
    payload = event_payload({"id": "pi_123", "object": "payment_intent"}, "payment_intent.created", "evt_other")
    r = deliver(client, payload)
    assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"
    assert event_row(db, "evt_other") == ("payment_intent.created", False, "ignored", None)


def test_transient_database_error_is_503_and_the_retry_fulfils(app_config, db, stripe_fake, db_url):
    # The app's connections give up on a lock after 200 ms; a concurrent transaction holds one.
    locked = create_app(dict(app_config, **{k: app_config[k] + " options='-c lock_timeout=200'"
                                            for k in ("DATABASE_URL", "PAYMENTS_DATABASE_URL")}))
    try:
        client = CheckedClient(locked)
        pid, cs_id = checkout(client, db, stripe_fake)
        session = stripe_fake.mark_paid(cs_id)
        payload = event_payload(session, event_id="evt_retry")
        with psycopg.connect(db_url) as blocker:
            blocker.execute("SELECT 1 FROM checkout_purchases WHERE id = %s FOR UPDATE", (pid,))
            r = deliver(client, payload)
            assert r.status_code == 503, r.get_json()
            assert r.headers.get("Retry-After")
            blocker.rollback()
        # Nothing of the failed attempt stayed, not even the event id: Stripe's retry is processed.
        assert event_row(db, "evt_retry") is None
        assert fulfilled_rows(db, cs_id) == []
        r = deliver(client, payload)
        assert r.status_code == 200 and r.get_json()["outcome"] == "fulfilled"
        assert len(fulfilled_rows(db, cs_id)) == 1
    finally:
        close_pools(locked)


def test_unreachable_database_is_503(app_config, stripe_fake):
    nowhere = "postgresql://127.0.0.1:1/nowhere?connect_timeout=1"
    broken = create_app(dict(app_config, DATABASE_URL=nowhere, PAYMENTS_DATABASE_URL=nowhere, POOL_TIMEOUT=1))
    try:
        client = CheckedClient(broken)
        session = stripe_fake.add_session(amount_total=2900, currency="usd")
        r = deliver(client, event_payload(session, event_id="evt_nodb"))
        assert r.status_code == 503
        assert r.get_json()["error"]["code"] == "database_unavailable"
    finally:
        close_pools(broken)


def test_stripe_unreachable_on_refetch_is_503(client, db, stripe_fake):
    _, cs_id = checkout(client, db, stripe_fake)
    session = stripe_fake.mark_paid(cs_id)
    stripe_fake.fail_next(500, times=5)
    before = snapshot(db)
    r = deliver(client, event_payload(session, event_id="evt_stripe_down"))
    assert r.status_code == 503
    assert snapshot(db) == before


def test_oversized_body_is_413_json(client, db):
    before = snapshot(db)
    r = deliver(client, b'{"id": "evt_big", "pad": "' + b"x" * (600 * 1024) + b'"}')
    assert r.status_code == 413 and r.get_json()["ok"] is False
    assert snapshot(db) == before


def test_event_for_a_session_stripe_does_not_show_is_refused_kept_and_logged(client, db, stripe_fake, caplog):
    # Signed with our endpoint secret, yet the API answers 404 with our key (another account or mode):
    # never acknowledged (Stripe retries), kept as unresolved for reconciliation, logged as an error.
    unknown = {"id": "cs_test_not_ours_at_all", "object": "checkout.session", "payment_status": "paid",
               "amount_total": 2900, "currency": "usd", "client_reference_id": None}
    before = snapshot(db)
    with caplog.at_level("ERROR", logger="app.api.stripe_webhook"):
        r = deliver(client, event_payload(unknown, event_id="evt_unknown_cs"))
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "checkout_session_unresolved"
    assert snapshot(db) == before  # not even the event id: the retry is processed again
    assert any("cs_test_not_ours_at_all" in rec.getMessage() and rec.levelname == "ERROR" for rec in caplog.records)
    row = db.execute("SELECT first_event_id, attempts, resolved_at FROM unresolved_checkout_sessions "
                     "WHERE stripe_checkout_session_id = 'cs_test_not_ours_at_all'").fetchone()
    assert row == ("evt_unknown_cs", 1, None)
    r = deliver(client, event_payload(unknown, event_id="evt_unknown_cs"))
    assert r.status_code == 503
    assert db.execute("SELECT attempts FROM unresolved_checkout_sessions").fetchone() == (2,)


@pytest.mark.parametrize("data", [{"object": "nope"}, {"object": {"id": "pi_123"}}, "x", None])
def test_checkout_event_without_a_session_object_is_400(client, db, data):
    import json

    before = snapshot(db)
    payload = json.dumps({"id": "evt_malformed", "object": "event", "type": "checkout.session.completed",
                          "livemode": False, "data": data}).encode()
    r = deliver(client, payload)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_payload"
    assert snapshot(db) == before
