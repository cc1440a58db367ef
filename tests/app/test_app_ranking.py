"""The ranking's endpoints over HTTP: a mechanic's own reliability figures, the customer's place in
line, and the workshop_only checkout refused before payment when nobody is in working hours."""

from __future__ import annotations

import uuid

from tests.app.conftest import ALICE, ANA, AUTOPRO, auth, deliver, event_payload, snapshot

BOB = "33333333-3333-4333-8333-000000000002"


def paid_request(client, db, stripe_fake, query):
    resp = client.get(f"/api/checkout/create-session?{query}", headers=auth())
    assert resp.status_code == 303, resp.get_json()
    cs_id = resp.headers["Location"].rsplit("/", 1)[1]
    r = deliver(client, event_payload(stripe_fake.mark_paid(cs_id)))
    assert r.get_json()["outcome"] == "fulfilled", r.get_json()
    return r.get_json()["session_request_id"]


def test_a_mechanic_reads_their_own_reliability(client, db):
    resp = client.get("/api/mechanic/reliability", headers=auth(ANA, "mechanic"))
    assert resp.status_code == 200, resp.get_json()
    rel = resp.get_json()["reliability"]
    assert rel["mechanic_id"] == ANA and rel["minimum_count"] == 10 and rel["acceptance_rate"] is None
    score = db.execute("SELECT rank_score FROM ssr_private.rank_figures(%s, ssr_private.default_policy_params())", (ANA,)).fetchone()[0]
    assert abs(rel["rank_score"] - score) < 1e-6
    assert client.get("/api/mechanic/reliability").status_code == 401
    assert client.get("/api/mechanic/reliability", headers=auth(ALICE, "customer")).status_code == 403
    assert client.get("/api/mechanic/reliability?x=1", headers=auth(ANA, "mechanic")).status_code == 400


def test_the_customer_reads_their_place_in_line(client, db, stripe_fake):
    first = paid_request(client, db, stripe_fake, "plan=video15")
    second = paid_request(client, db, stripe_fake, "plan=video15")
    resp = client.get(f"/api/session-requests/{second}/queue", headers=auth())
    assert resp.status_code == 200, resp.get_json()
    q = resp.get_json()["queue"]
    assert (q["status"], q["pool"], q["queue_position"]) == ("pending", "everyone", 2)
    assert client.get(f"/api/session-requests/{first}/queue", headers=auth()).get_json()["queue"]["queue_position"] == 1
    before = snapshot(db)
    assert client.get(f"/api/session-requests/{first}/queue", headers=auth(BOB)).status_code == 404
    assert client.get(f"/api/session-requests/{uuid.uuid4()}/queue", headers=auth()).status_code == 404
    assert client.get("/api/session-requests/nope/queue", headers=auth()).status_code == 404
    assert client.get(f"/api/session-requests/{first}/queue", headers=auth(ANA, "mechanic")).status_code == 403
    assert snapshot(db) == before


def test_workshop_only_checkout_outside_hours_is_a_409_before_payment(client, db, stripe_fake):
    for delta in (-1, 0, 1):
        db.execute("INSERT INTO hours_overrides (workshop_id, day, note) VALUES (%s, current_date + %s, 'closed')",
                   (AUTOPRO, delta))
    before = snapshot(db)
    resp = client.get(f"/api/checkout/create-session?plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only",
                      headers=auth())
    assert resp.status_code == 409, resp.get_json()
    err = resp.get_json()["error"]
    assert err["field"] == "workshop_id" and "working hours" in err["message"]
    assert snapshot(db) == before and not stripe_fake.sessions
