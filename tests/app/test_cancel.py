"""POST /api/session-requests/<id>/cancel: the customer who paid cancels a pending request;
cancelled and a refund owed in one transaction; against a concurrent accept exactly one wins."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from tests.app.conftest import ALICE, ANA, AUTOPRO, DEV, auth, deliver, event_payload, snapshot

BOB = "33333333-3333-4333-8333-000000000002"


def paid_request(client, db, stripe_fake, query=f"plan=video15&workshop_id={AUTOPRO}&routing_type=hybrid"):
    assert client.get(f"/api/checkout/create-session?{query}", headers=auth()).status_code == 303
    pid, cs_id = db.execute("SELECT id, stripe_checkout_session_id FROM checkout_purchases "
                            "ORDER BY created_at DESC LIMIT 1").fetchone()
    body = deliver(client, event_payload(stripe_fake.mark_paid(cs_id))).get_json()
    assert body["outcome"] == "fulfilled"
    return pid, body["session_request_id"], body["session_id"]


def test_the_customer_cancels_a_pending_request_and_is_owed_a_refund(client, db, stripe_fake):
    pid, rid, sid = paid_request(client, db, stripe_fake)
    resp = client.post(f"/api/session-requests/{rid}/cancel", headers=auth(ALICE))
    assert resp.status_code == 200, resp.get_json()
    req = resp.get_json()["request"]
    assert (req["request_id"], req["request_status"], req["session_id"]) == (rid, "cancelled", sid)
    assert (req["refund_status"], req["refund_amount_minor"], req["refund_currency"]) == ("pending", 2900, "usd")
    row = db.execute("SELECT id, reason, status, session_request_id::text FROM refunds WHERE purchase_id = %s",
                     (pid,)).fetchone()
    assert (str(row[0]), row[1:]) == (req["refund_id"], ("customer_cancelled", "pending", rid))
    assert db.execute("SELECT status, outcome FROM session_requests WHERE id = %s", (rid,)).fetchone() == (
        "cancelled", "cancelled")
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("cancelled",)
    # Audited as every transition.
    assert db.execute("SELECT count(*) FROM routing_events WHERE request_id = %s AND event_type = 'cancelled'",
                      (rid,)).fetchone() == (1,)
    # Again: 409, nothing more owed.
    before = snapshot(db)
    again = client.post(f"/api/session-requests/{rid}/cancel", headers=auth(ALICE))
    assert again.status_code == 409
    assert snapshot(db) == before and db.execute("SELECT count(*) FROM refunds").fetchone() == (1,)
    # Too late for the mechanic.
    assert client.post(f"/api/session-requests/{rid}/accept", headers=auth(ANA, "mechanic")).status_code == 409


def test_cancel_refuses_others_and_accepted_requests(client, db, stripe_fake):
    _pid, rid, _sid = paid_request(client, db, stripe_fake)
    before = snapshot(db)
    # Another customer: as if it did not exist (never revealing whose it is).
    assert client.post(f"/api/session-requests/{rid}/cancel", headers=auth(BOB)).status_code == 404
    assert client.post(f"/api/session-requests/{uuid.uuid4()}/cancel", headers=auth(ALICE)).status_code == 404
    assert client.post("/api/session-requests/nope/cancel", headers=auth(ALICE)).status_code == 404
    assert client.post(f"/api/session-requests/{rid}/cancel").status_code == 401
    assert client.post(f"/api/session-requests/{rid}/cancel", headers=auth(ANA, "mechanic")).status_code == 403
    assert snapshot(db) == before
    assert client.post(f"/api/session-requests/{rid}/accept", headers=auth(ANA, "mechanic")).status_code == 200
    assert client.post(f"/api/session-requests/{rid}/cancel", headers=auth(ALICE)).status_code == 409
    assert db.execute("SELECT count(*) FROM refunds").fetchone() == (0,)


def test_cancel_checks_the_acting_customer_in_the_database(db, client, stripe_fake):
    _pid, rid, _sid = paid_request(client, db, stripe_fake)
    cases = [((None, ALICE), "SR400", "request_id"), ((rid, None), "SR400", "customer_id")]
    for args, state, field in cases:
        with pytest.raises(psycopg.Error) as exc:
            db.execute("SELECT * FROM cancel_customer_session_request(%s, %s)", args)
        assert (exc.value.sqlstate, exc.value.diag.column_name) == (state, field)
    with db.transaction():
        db.execute("SELECT set_config('app.customer_id', %s, TRUE)", (BOB,))
        with pytest.raises(psycopg.Error) as exc:
            db.execute("SELECT * FROM cancel_customer_session_request(%s, %s)", (rid, ALICE))
        assert exc.value.sqlstate == "SR403"
        raise psycopg.Rollback
    assert db.execute("SELECT status FROM session_requests WHERE id = %s", (rid,)).fetchone() == ("pending",)


def race(start, result, name, conn, sql, args, setting):
    """One side of a race: acting as args[1] (app.mechanic_id / app.customer_id), in one transaction."""
    start.wait(30)
    try:
        with conn.transaction():
            conn.execute("SELECT set_config(%s, %s, TRUE)", (setting, str(args[1])))
            conn.execute(sql, args)
        result[name] = "ok"
    except psycopg.Error as exc:
        result[name] = exc.sqlstate


def test_cancel_racing_accept_has_exactly_one_winner_50_runs(client, db, stripe_fake, db_url):
    # Fifty paid requests (hybrid at AutoPro: Ana may accept), then, for each, an accept and a
    # cancel on two connections released together.
    requests = []
    db.execute("SELECT set_config('app.customer_id', %s, FALSE)", (ALICE,))  # acting for Alice
    for _ in range(50):
        pid = db.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', %s, 'hybrid')",
                         (ALICE, AUTOPRO)).fetchone()[0]
        cs = "cs_test_race_" + uuid.uuid4().hex
        db.execute("SELECT attach_checkout_session(%s, %s)", (pid, cs))
        out = db.execute("SELECT outcome, session_request_id FROM fulfill_checkout_purchase(%s, %s, 'paid', 2900, 'usd')",
                         (cs, str(pid))).fetchone()
        assert out[0] == "fulfilled"
        requests.append((pid, out[1]))

    accept_conn = psycopg.connect(db_url, autocommit=True)
    cancel_conn = psycopg.connect(db_url, autocommit=True)
    winners = {"accept": 0, "cancel": 0}
    try:
        for pid, rid in requests:
            start = threading.Barrier(2)
            result = {}
            threads = [
                threading.Thread(target=race, args=(start, result, "accept", accept_conn,
                                                    "SELECT * FROM accept_session_request(%s, %s)",
                                                    (rid, ANA), "app.mechanic_id")),
                threading.Thread(target=race, args=(start, result, "cancel", cancel_conn,
                                                    "SELECT * FROM cancel_customer_session_request(%s, %s)",
                                                    (rid, ALICE), "app.customer_id")),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(result.values()) == ["SR409", "ok"], result
            winner = "accept" if result["accept"] == "ok" else "cancel"
            winners[winner] += 1
            status, refunds = db.execute(
                "SELECT r.status, (SELECT count(*) FROM refunds AS rf WHERE rf.purchase_id = %s) "
                "FROM session_requests AS r WHERE r.id = %s", (pid, rid)).fetchone()
            assert (status, refunds) == (("accepted", 0) if winner == "accept" else ("cancelled", 1))
    finally:
        accept_conn.close()
        cancel_conn.close()
    assert winners["accept"] + winners["cancel"] == 50


def test_a_mechanic_of_another_workshop_cannot_make_a_cancel_fail(client, db, stripe_fake):
    _pid, rid, _sid = paid_request(client, db, stripe_fake, f"plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only")
    assert client.post(f"/api/session-requests/{rid}/accept", headers=auth(DEV, "mechanic")).status_code == 403
    assert client.post(f"/api/session-requests/{rid}/cancel", headers=auth(ALICE)).status_code == 200
