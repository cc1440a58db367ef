"""HTTP: decline a request; start, complete, no-show and review a session; capacity as 409."""

from __future__ import annotations

import uuid

from tests.app.conftest import ALICE, ANA, AUTOPRO, DEV, auth
from tests.app.test_refunds import paid_request as paid
from tests.app.test_refunds import refund_row

BOB = "33333333-3333-4333-8333-000000000002"


def new_request(db, routing="broadcast", workshop=None) -> tuple[str, str]:
    """A paid session of Alice and its routed request, made in the database; (request_id, session_id)."""
    sid = db.execute(
        "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency) "
        "VALUES (%s, 'video15', 2900, 'usd') RETURNING id",
        (ALICE,),
    ).fetchone()[0]
    rid = db.execute(
        "SELECT id FROM ssr_private.create_session_request(%s, 'video15', %s, NULL, %s, %s)", (ALICE, sid, workshop, routing)
    ).fetchone()[0]
    return str(rid), str(sid)


def mech(sub=ANA):
    return auth(sub, "mechanic")


def test_decline_hides_the_offer_from_that_mechanic_only(client, db):
    rid, _ = new_request(db)
    offers = lambda sub: {r["request_id"] for r in client.get("/api/mechanic/requests", headers=mech(sub)).get_json()["requests"]}  # noqa: E731
    assert rid in offers(ANA) and rid in offers(DEV)
    resp = client.post(f"/api/session-requests/{rid}/decline", headers=mech(), json={"reason": "no time"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["ok"] and body["decline"]["request_status"] == "pending" and body["decline"]["mechanic_id"] == ANA
    assert rid not in offers(ANA) and rid in offers(DEV)
    resp = client.post(f"/api/session-requests/{rid}/accept", headers=mech())
    assert resp.status_code == 409 and resp.get_json()["error"]["field"] == "request_id"
    assert client.post(f"/api/session-requests/{rid}/decline", headers=mech()).status_code == 200  # retry, no body


DECLINE_BAD_BODIES = [
    (b"[1]", None), (b"{", None), (b'{"why": "x"}', "why"), (b'{"reason": 5}', "reason"),
    (b'{"reason": "' + b"x" * 501 + b'"}', "reason"),
]


def test_decline_bad_body_writes_nothing(client, db):
    rid, _ = new_request(db)
    for body, field in DECLINE_BAD_BODIES:
        resp = client.post(f"/api/session-requests/{rid}/decline",
                           headers={**mech(), "Content-Type": "application/json"}, data=body)
        assert resp.status_code == 400 and resp.get_json()["error"].get("field") == field, body
    assert db.execute("SELECT count(*) FROM session_request_declines").fetchone()[0] == 0


def test_decline_errors(client, db):
    rid, _ = new_request(db, "workshop_only", AUTOPRO)
    assert client.post(f"/api/session-requests/{rid}/decline").status_code == 401
    assert client.post(f"/api/session-requests/{rid}/decline", headers=auth(ALICE)).status_code == 403
    assert client.post(f"/api/session-requests/{rid}/decline", headers=mech(DEV)).status_code == 403  # not AutoPro
    assert client.post("/api/session-requests/nope/decline", headers=mech()).status_code == 404
    assert client.post(f"/api/session-requests/{uuid.uuid4()}/decline", headers=mech()).status_code == 404


def test_accept_start_complete_review_over_http_and_capacity_409(client, db):
    r1, s1 = new_request(db)
    r2, _ = new_request(db)
    assert client.post(f"/api/session-requests/{r1}/accept", headers=mech()).status_code == 200
    resp = client.post(f"/api/session-requests/{r2}/accept", headers=mech())
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["field"] == "mechanic_id" and "capacity" in err["message"]
    assert client.get("/api/mechanic/requests", headers=mech()).get_json()["requests"] == []
    # the customer cannot review before the end, nor move it
    assert client.post(f"/api/sessions/{s1}/review", headers=auth(), json={"rating": 5}).status_code == 409
    assert client.post(f"/api/sessions/{s1}/start", headers=auth()).status_code == 403
    assert client.post(f"/api/sessions/{s1}/start", headers=mech(DEV)).status_code == 403
    assert client.post(f"/api/sessions/{s1}/complete", headers=mech()).status_code == 409
    resp = client.post(f"/api/sessions/{s1}/start", headers=mech())
    assert resp.status_code == 200 and resp.get_json()["session"]["status"] == "live"
    resp = client.post(f"/api/sessions/{s1}/complete", headers=mech())
    assert resp.status_code == 200 and resp.get_json()["session"]["status"] == "completed"
    assert client.post(f"/api/sessions/{s1}/no-show", headers=mech()).status_code == 409
    # the slot is free again
    assert r2 in {r["request_id"] for r in client.get("/api/mechanic/requests", headers=mech()).get_json()["requests"]}
    before = db.execute("SELECT review_count, rating_sum FROM workshop_stats WHERE workshop_id = %s", (AUTOPRO,)).fetchone()
    assert client.post(f"/api/sessions/{s1}/review", headers=auth(BOB), json={"rating": 5}).status_code == 403
    resp = client.post(f"/api/sessions/{s1}/review", headers=auth(), json={"rating": 4, "comment": "Clear and quick"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["review"]["rating"] == 4
    after = db.execute("SELECT review_count, rating_sum FROM workshop_stats WHERE workshop_id = %s", (AUTOPRO,)).fetchone()
    assert after == (before[0] + 1, before[1] + 4)
    assert client.post(f"/api/sessions/{s1}/review", headers=auth(), json={"rating": 4}).status_code == 409


def test_no_show_frees_the_slot(client, db):
    r1, s1 = new_request(db)
    assert client.post(f"/api/session-requests/{r1}/accept", headers=mech()).status_code == 200
    resp = client.post(f"/api/sessions/{s1}/no-show", headers=mech())
    assert resp.status_code == 200 and resp.get_json()["session"]["status"] == "no_show"
    assert client.post(f"/api/sessions/{s1}/start", headers=mech()).status_code == 409
    assert client.post(f"/api/sessions/{s1}/review", headers=auth(), json={"rating": 1}).status_code == 409
    assert db.execute("SELECT open_sessions FROM mechanics WHERE id = %s", (ANA,)).fetchone()[0] == 0


REVIEW_BAD_BODIES = [
    (b"", None), (b"[]", None), (b"not json", None), (b'{"rating": "5"}', "rating"), (b'{"rating": true}', "rating"),
    (b'{"rating": 4.5}', "rating"), (b'{"rating": 6}', "rating"), (b'{"rating": 0}', "rating"), (b"{}", "rating"),
    (b'{"rating": 5, "comment": 3}', "comment"), (b'{"rating": 5, "stars": 3}', "stars"),
]


def test_review_bad_body_writes_nothing(client, db):
    _, sid = new_request(db)
    db.execute("UPDATE sessions SET mechanic_id = %s, status = 'completed' WHERE id = %s", (ANA, sid))
    before = db.execute("SELECT count(*) FROM reviews").fetchone()[0]
    for body, field in REVIEW_BAD_BODIES:
        resp = client.post(f"/api/sessions/{sid}/review", headers={**auth(), "Content-Type": "application/json"},
                           data=body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert resp.get_json()["error"].get("field") == field, body
    assert db.execute("SELECT count(*) FROM reviews").fetchone()[0] == before


def test_session_paths_404(client):
    for action in ("start", "complete", "no-show"):
        assert client.post(f"/api/sessions/nope/{action}", headers=mech()).status_code == 404
        assert client.post(f"/api/sessions/{uuid.uuid4()}/{action}", headers=mech()).status_code == 404
        assert client.post(f"/api/sessions/{uuid.uuid4()}/{action}").status_code == 401
    assert client.post(f"/api/sessions/{uuid.uuid4()}/review", headers=auth(), json={"rating": 3}).status_code == 404
    assert client.post(f"/api/sessions/{uuid.uuid4()}/review", headers=mech(), json={"rating": 3}).status_code == 403


def test_declined_by_every_mechanic_of_the_workshop_a_paid_request_expires_and_owes_its_refund(client, db, stripe_fake):
    """The decline path ends a workshop_only request by the sweep's transition, so the refund
    owed by an expiry follows: once, in the same transaction."""
    pid, _cs, sid, rid = paid(client, db, stripe_fake)  # workshop_only at AutoPro
    staff = [str(m) for (m,) in db.execute(
        "SELECT id FROM mechanics WHERE workshop_id = %s AND status = 'active' AND is_available ORDER BY id",
        (AUTOPRO,)).fetchall()]
    assert len(staff) >= 2
    for i, m in enumerate(staff):
        resp = client.post(f"/api/session-requests/{rid}/decline", headers=mech(m))
        assert resp.status_code == 200, resp.get_json()
        status = resp.get_json()["decline"]["request_status"]
        assert status == ("expired" if i == len(staff) - 1 else "pending")
        assert (refund_row(db, pid) is None) == (i < len(staff) - 1)
    assert refund_row(db, pid)[:2] == ("expired_no_mechanic", "pending")
    assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("cancelled",)
    assert db.execute("SELECT count(*) FROM refunds WHERE purchase_id = %s", (pid,)).fetchone() == (1,)
    assert db.execute(
        "SELECT detail ->> 'reason' FROM routing_events WHERE request_id = %s AND event_type = 'expired'", (rid,)
    ).fetchone() == ("all_declined",)
    # the sweep finds nothing left to expire or refund
    db.execute("SELECT ssr_private.sweep_session_requests(now() + interval '1 day')")
    assert db.execute("SELECT count(*) FROM refunds WHERE purchase_id = %s", (pid,)).fetchone() == (1,)
