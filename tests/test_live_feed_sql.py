"""The SQL of the live streams: routing_outbox_feed (what a hub reads when a notification wakes it)
and get_mechanic_events (a mechanic's replay): outbox rows only, no other mechanic's or workshop's
identity on the global channel, a replay bounded to 15 minutes of what the mechanic may see."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.dbutil import ACCEPT_AS, as_user, set_identity

ALICE = "33333333-3333-4333-8333-000000000001"
AUTOPRO = "11111111-1111-4111-8111-000000000001"
ANA = "22222222-2222-4222-8222-000000000001"  # AutoPro
BEN = "22222222-2222-4222-8222-000000000002"  # AutoPro
DEV = "22222222-2222-4222-8222-000000000004"  # City Auto
EVENTS = "SELECT id, channel, data FROM get_mechanic_events(%s, %s)"


def paid(conn, routing_type="broadcast", workshop=None) -> str:
    row = conn.execute(
        "SELECT session_request_id FROM ssr_private.fulfill_checkout('video15', %s, NULL, %s, "
        "'alice@customer.example', 2900, 'usd', NULL, %s, %s)",
        ("cs_test_feed_" + uuid.uuid4().hex, ALICE, workshop, routing_type)).fetchone()
    return str(row[0])


def test_the_feed_reads_outbox_rows_after_a_position_skipping_what_was_read(seeded_conn, app_db_url):
    head = seeded_conn.execute("SELECT coalesce(max(id), 0) FROM routing_outbox").fetchone()[0]
    first, second = paid(seeded_conn), paid(seeded_conn)
    with psycopg.connect(app_db_url, autocommit=True) as app:
        assert app.execute("SELECT id, channel, data FROM routing_outbox_feed(NULL, NULL)").fetchall() == [
            (head + 2, None, None)]
        rows = app.execute("SELECT id, channel, data FROM routing_outbox_feed(%s, ARRAY['session_requests'])",
                           (head,)).fetchall()
        assert [json.loads(d)["request_id"] for _, _, d in rows] == [first, second]
        assert all(json.loads(d)["outbox_id"] == i for i, _, d in rows)
        again = app.execute("SELECT id FROM routing_outbox_feed(%s, ARRAY['session_requests'], %s)",
                            (head, [rows[0][0]])).fetchall()
        assert again == [(rows[1][0],)]
        assert app.execute("SELECT count(*) FROM routing_outbox_feed(0, ARRAY['session_requests_ws_x'])"
                           ).fetchone() == (0,)
        for bad in (0, 1001, None):
            with pytest.raises(psycopg.Error) as err:
                app.execute("SELECT * FROM routing_outbox_feed(0, ARRAY['session_requests'], '{}', %s)", (bad,))
            assert err.value.sqlstate == "SR400" and err.value.diag.column_name == "limit"


def test_global_rows_name_nobody_even_rows_written_before(seeded_conn, app_db_url):
    request = paid(seeded_conn)
    seeded_conn.execute(ACCEPT_AS, (request, BEN))
    accepted = seeded_conn.execute("SELECT payload FROM routing_outbox WHERE request_id = %s AND event_type = "
                                   "'accepted'", (request,)).fetchall()
    assert accepted and all("mechanic_id" not in p and "workshop_id" not in p for (p,) in accepted)
    # A row as routing_publish wrote them before: the readers strip it.
    seeded_conn.execute(
        "INSERT INTO routing_outbox (channel, request_id, event_type, payload) VALUES ('session_requests', %s, "
        "'accepted', %s)", (request, json.dumps({"event": "accepted", "mechanic_id": BEN, "workshop_id": AUTOPRO})))
    with psycopg.connect(app_db_url, autocommit=True) as app:
        sent = [json.loads(d) for (d,) in app.execute(
            "SELECT data FROM routing_outbox_feed(0, ARRAY['session_requests'])").fetchall()]
        assert sent and not any({"mechanic_id", "workshop_id"} & set(s) for s in sent)
    # The preferred workshop's own channel still names its own mechanic.
    hybrid = paid(seeded_conn, "workshop_only", AUTOPRO)
    seeded_conn.execute(ACCEPT_AS, (hybrid, ANA))
    own = seeded_conn.execute("SELECT payload FROM routing_outbox WHERE request_id = %s AND event_type = 'accepted'",
                              (hybrid,)).fetchone()[0]
    assert own["mechanic_id"] == ANA and own["workshop_id"] == AUTOPRO


def test_a_replay_is_fifteen_minutes_of_what_the_mechanic_may_see(seeded_conn, app_db_url):
    old = paid(seeded_conn)
    seeded_conn.execute("UPDATE routing_outbox SET created_at = now() - interval '1 hour' WHERE request_id = %s", (old,))
    autopro_only = paid(seeded_conn, "hybrid", AUTOPRO)  # inside AutoPro's window: not City Auto's
    open_one = paid(seeded_conn)
    taken = paid(seeded_conn)
    seeded_conn.execute(ACCEPT_AS, (taken, BEN))
    mine = paid(seeded_conn)
    with psycopg.connect(app_db_url, autocommit=True) as app:
        set_identity(app, "mechanic", DEV)
        rows = app.execute(EVENTS, (DEV, 0)).fetchall()
        got = [(json.loads(d)["request_id"], json.loads(d)["event"]) for _, _, d in rows]
        assert (open_one, "created") in got
        assert (taken, "accepted") in got and (taken, "created") not in got  # gone: only that it is gone
        assert not {old, autopro_only} & {r for r, _ in got}
        assert [i for i, _, _ in rows] == sorted(i for i, _, _ in rows)
        assert not any({"mechanic_id", "workshop_id"} & set(json.loads(d)) for _, _, d in rows)
        last = rows[-1][0]
        assert app.execute(EVENTS, (DEV, last)).fetchall() == []
        # Dev takes one (now at capacity: offered nothing): their own request still replays, the open one not.
        seeded_conn.execute(ACCEPT_AS, (mine, DEV))
        got = [(json.loads(d)["request_id"], json.loads(d)["event"]) for _, _, d in app.execute(EVENTS, (DEV, 0))]
        assert (mine, "created") in got and (mine, "accepted") in got
        assert (open_one, "created") not in got
        # Another mechanic's replay is refused, as is no identity.
        with pytest.raises(psycopg.Error) as err:
            app.execute(EVENTS, (ANA, 0))
        assert err.value.sqlstate == "SR403" and err.value.diag.column_name == "mechanic_id"
        for bad in (0, 1001):
            with pytest.raises(psycopg.Error) as err:
                app.execute("SELECT * FROM get_mechanic_events(%s, 0, %s)", (DEV, bad))
            assert err.value.sqlstate == "SR400" and err.value.diag.column_name == "limit"
    with psycopg.connect(as_user(app_db_url, "ssr_app"), autocommit=True) as app:
        with pytest.raises(psycopg.Error) as err:
            app.execute(EVENTS, (DEV, 0))
        assert err.value.sqlstate == "SR403"
