"""The mechanic's presence over HTTP: GET/POST /api/mechanic/presence and POST /api/mechanic/heartbeat,
one SQL call each (get_mechanic_presence, set_mechanic_presence, mechanic_heartbeat); the reason
the engine took a mechanic away is shown, and coming back clears it."""

from __future__ import annotations

from tests.app.conftest import ALICE, ANA, auth
from tests.app.live_server import serve
from tests.app.sse import SSEClient


def test_presence_heartbeat_and_coming_back(client, db):
    me = auth(ANA, "mechanic")
    got = client.get("/api/mechanic/presence", headers=me)
    assert got.status_code == 200, got.get_json()
    assert got.get_json()["presence"]["online"] is True
    beat = client.post("/api/mechanic/heartbeat", headers=me)
    assert beat.status_code == 200 and beat.get_json()["presence"]["last_seen_at"] is not None
    seen = db.execute("SELECT last_seen_at FROM mechanics WHERE id = %s", (ANA,)).fetchone()[0]
    assert seen is not None
    # the engine takes her away (as the sweep does after timed-out offers)
    db.execute("UPDATE mechanics SET is_available = FALSE, away_reason = 'offers_timed_out', away_at = now() "
               "WHERE id = %s", (ANA,))
    away = client.get("/api/mechanic/presence", headers=me).get_json()["presence"]
    assert (away["online"], away["away_reason"]) == (False, "offers_timed_out")
    back = client.post("/api/mechanic/presence", json={"online": True}, headers=me)
    assert back.status_code == 200 and back.get_json()["presence"]["online"] is True
    row = db.execute("SELECT is_available, away_reason FROM mechanics WHERE id = %s", (ANA,)).fetchone()
    assert row == (True, None)
    off = client.post("/api/mechanic/presence", json={"online": False}, headers=me)
    assert off.status_code == 200
    assert client.get("/api/mechanic/presence", headers=me).get_json()["presence"]["away_reason"] is None


def test_presence_bad_input_and_roles(client, db):
    me = auth(ANA, "mechanic")
    before = db.execute("SELECT is_available FROM mechanics WHERE id = %s", (ANA,)).fetchone()
    for body in ({"online": "yes"}, {"online": None}, {"away": True}, []):
        resp = client.post("/api/mechanic/presence", json=body, headers=me)
        assert resp.status_code == 400, body
    assert client.post("/api/mechanic/heartbeat", json={"x": 1}, headers=me).status_code == 400
    assert client.get("/api/mechanic/presence?x=1", headers=me).status_code == 400
    assert db.execute("SELECT is_available FROM mechanics WHERE id = %s", (ANA,)).fetchone() == before
    for method, url in (("GET", "/api/mechanic/presence"), ("POST", "/api/mechanic/heartbeat")):
        assert client.open(method, url).status_code == 401
        assert client.open(method, url, headers=auth(ALICE, "customer")).status_code == 403


def test_the_live_stream_is_the_heartbeat_and_tells_why_the_engine_took_one_away(app_config, seeded_conn):
    seeded_conn.execute("UPDATE mechanics SET last_seen_at = NULL WHERE id = %s", (ANA,))
    with serve(app_config, workers=1, SSE_HEARTBEAT_SECONDS="0.3") as (base, _fake, _proc):
        ana = SSEClient(base, headers=auth(ANA, "mechanic"))
        assert ana.status == 200
        ana.comment("heartbeat", 10)
        seen = seeded_conn.execute("SELECT last_seen_at FROM mechanics WHERE id = %s", (ANA,)).fetchone()[0]
        assert seen is not None  # the keep-alive wrote the heartbeat
        seeded_conn.execute("UPDATE mechanics SET is_available = FALSE, away_reason = 'no_heartbeat', "
                            "away_at = now() WHERE id = %s", (ANA,))
        event = ana.next_event(10)
        assert event["event"] == "presence" and "id" not in event
        assert (event["json"]["online"], event["json"]["away_reason"]) == (False, "no_heartbeat")
        ana.close()
