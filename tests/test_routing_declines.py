"""Declines: a declined request is never offered again to that mechanic (offers, row-level
security, accept), and only to them; when the preferred workshop's available mechanics have
all declined, a hybrid window ends at once and a workshop_only request expires."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.lifecycle_sql import ACCEPT_AS as ACCEPT
from tests.lifecycle_sql import DECLINE_AS as DECLINE
from tests.lifecycle_sql import offered, visible_as
from tests.test_routing_world import (
    build_world,
    event_types,
    events,
    expect_error,
    new_request,
    request_row,
)

DECLINE_RAW = "SELECT * FROM decline_session_request(%s, %s, %s)"


@pytest.fixture
def world(conn):
    return build_world(conn)


def decline(conn, rid, mid, reason=None) -> dict:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(DECLINE, (rid, mid, reason)).fetchone()


def test_a_decline_hides_the_offer_from_that_mechanic_only(conn, world):
    w = world
    r = new_request(conn, w, "broadcast")
    others = ("a2", "b1", "i1")
    d = decline(conn, r["id"], w.mech["a1"], "  no parts for that car ")
    assert (d["request_status"], d["offered_at"]) == ("pending", r["created_at"])
    assert r["id"] not in offered(conn, w.mech["a1"])
    assert r["id"] not in visible_as(conn, w.mech["a1"])
    for name in others:
        assert r["id"] in offered(conn, w.mech[name])
        assert r["id"] in visible_as(conn, w.mech[name])
    err = expect_error(conn, "SR409", ACCEPT, (r["id"], w.mech["a1"]), "request_id")
    assert "declined" in str(err)
    # recorded once, audited with the time from offer to decline; a retry changes nothing
    row = conn.execute(
        "SELECT workshop_id, reason, declined_at >= offered_at FROM session_request_declines WHERE request_id = %s",
        (r["id"],),
    ).fetchone()
    assert row == (w.ws["alpha"], "no parts for that car", True)
    assert decline(conn, r["id"], w.mech["a1"])["declined_at"] == d["declined_at"]
    assert event_types(conn, r["id"]) == ["created", "offered", "declined"]
    ev = events(conn, r["id"])[-1][1]
    assert ev["reason"] == "no parts for that car" and ev["seconds_to_decline"] >= 0
    assert request_row(conn, r["id"])["declined_by"] == [w.mech["a1"]]
    conn.execute(ACCEPT, (r["id"], w.mech["a2"]))
    assert request_row(conn, r["id"])["mechanic_id"] == w.mech["a2"]


def test_decline_refusals(conn, world):
    w = world
    unknown = "9d0c6a44-0000-4000-8000-000000000009"
    wo = new_request(conn, w, "workshop_only", "alpha")
    hy = new_request(conn, w, "hybrid", "alpha")
    taken = new_request(conn, w, "broadcast")
    conn.execute(ACCEPT, (taken["id"], w.mech["a2"]))
    expect_error(conn, "SR400", DECLINE, (None, w.mech["a1"], None), "request_id")
    expect_error(conn, "SR400", DECLINE, (wo["id"], None, None), "mechanic_id")
    expect_error(conn, "SR400", DECLINE, (wo["id"], w.mech["a1"], "x" * 501), "reason")
    expect_error(conn, "SR404", DECLINE, (unknown, w.mech["a1"], None), "request_id")
    expect_error(conn, "SR404", DECLINE, (wo["id"], unknown, None), "mechanic_id")
    expect_error(conn, "SR403", DECLINE, (wo["id"], w.mech["b1"], None), "mechanic_id")  # not its workshop
    expect_error(conn, "SR403", DECLINE, (hy["id"], w.mech["b1"], None), "mechanic_id")  # inside the window
    expect_error(conn, "SR403", DECLINE, (wo["id"], w.mech["a3"], None), "mechanic_id")  # unavailable
    expect_error(conn, "SR409", DECLINE, (taken["id"], w.mech["a1"], None), "request_id")
    # at capacity: offered nothing, so nothing to decline
    expect_error(conn, "SR409", DECLINE, (wo["id"], w.mech["a2"], None), "mechanic_id")
    conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(w.mech["a1"]),))
    expect_error(conn, "SR403", DECLINE_RAW, (wo["id"], w.mech["a2"], None), "mechanic_id")
    assert decline(conn, wo["id"], w.mech["a1"])["request_status"] == "expired"  # a1 was its last one


def test_every_available_mechanic_of_the_preferred_workshop_declines_a_hybrid_request(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    assert r["exclusive_until"] is not None
    assert decline(conn, r["id"], w.mech["a1"])["escalated_at"] is None
    assert r["id"] not in offered(conn, w.mech["b1"])
    d = decline(conn, r["id"], w.mech["a2"])
    req = request_row(conn, r["id"])
    assert req["status"] == "pending" and req["escalated_at"] == d["escalated_at"] == d["declined_at"]
    assert req["exclusive_until"] == req["escalated_at"] < r["exclusive_until"]
    assert event_types(conn, r["id"]) == ["created", "offered", "declined", "declined", "escalated"]
    assert events(conn, r["id"])[-1][1]["reason"] == "preferred_workshop_declined"
    channels = {c for (c,) in conn.execute(
        "SELECT channel FROM routing_outbox WHERE request_id = %s AND event_type = 'escalated'", (r["id"],)).fetchall()}
    assert "session_requests" in channels
    narrative = conn.execute("SELECT narrative FROM ssr_private.explain_routing(%s) ORDER BY step DESC LIMIT 1", (r["id"],)).fetchone()[0]
    assert "declined" in narrative
    # now open to everyone else, never to the two who declined
    assert r["id"] in offered(conn, w.mech["b1"]) and r["id"] in offered(conn, w.mech["i1"])
    assert r["id"] not in offered(conn, w.mech["a1"]) | offered(conn, w.mech["a2"])
    conn.execute(ACCEPT, (r["id"], w.mech["b1"]))
    # the outsider's offer started at the end of the window
    b = new_request(conn, w, "hybrid", "alpha")
    conn.execute(
        "UPDATE session_requests SET created_at = now() - interval '65 seconds', "
        "exclusive_until = now() - interval '5 seconds' WHERE id = %s",
        (b["id"],),
    )
    assert decline(conn, b["id"], w.mech["i1"])["offered_at"] == request_row(conn, b["id"])["exclusive_until"]


def test_a_busy_mechanic_does_not_hold_the_window_and_the_sweep_counts_declines(conn, world):
    w = world
    busy = new_request(conn, w, "broadcast")
    conn.execute(ACCEPT, (busy["id"], w.mech["a2"]))  # a2 at capacity
    r = new_request(conn, w, "hybrid", "alpha")
    assert r["exclusive_until"] is not None  # a1 is available
    assert decline(conn, r["id"], w.mech["a1"])["escalated_at"] is not None
    # the sweep: a1 declined, a2 (the other one available) goes offline -> cut short
    s = new_request(conn, w, "hybrid", "beta")
    conn.execute("UPDATE mechanics SET is_available = TRUE WHERE id = %s", (w.mech["b2"],))
    decline(conn, s["id"], w.mech["b1"])
    assert request_row(conn, s["id"])["escalated_at"] is None  # b2 is still there
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE id = %s", (w.mech["b2"],))
    assert conn.execute("SELECT escalated FROM ssr_private.sweep_session_requests(now())").fetchone()[0] == 1
    assert events(conn, s["id"])[-1][1]["reason"] == "preferred_workshop_unavailable"


def test_every_eligible_mechanic_declines_a_workshop_only_request(conn, world):
    w = world
    r = new_request(conn, w, "workshop_only", "alpha")
    assert decline(conn, r["id"], w.mech["a1"])["request_status"] == "pending"
    assert r["id"] in offered(conn, w.mech["a2"])
    d = decline(conn, r["id"], w.mech["a2"], "out of my depth")
    assert d["request_status"] == "expired"
    req = request_row(conn, r["id"])
    assert (req["status"], req["outcome"], req["closed_at"]) == ("expired", "expired_no_mechanic", d["declined_at"])
    assert event_types(conn, r["id"]) == ["created", "offered", "declined", "declined", "expired"]
    detail = events(conn, r["id"])[-1][1]
    assert (detail["outcome"], detail["reason"]) == ("expired_no_mechanic", "all_declined")
    assert conn.execute(
        "SELECT count(*) FROM routing_outbox WHERE request_id = %s AND event_type = 'expired'", (r["id"],)
    ).fetchone()[0] == 1
    # the sweep has nothing more to do with it
    assert conn.execute("SELECT expired FROM ssr_private.sweep_session_requests(now() + interval '1 hour')").fetchone()[0] == 0


def test_concurrent_last_declines_see_each_other(conn, db_url, world):
    """a1 and a2 decline a workshop_only request at the same moment: the second to run sees
    the first's decline and ends the request, exactly once."""
    w = world
    r = new_request(conn, w, "workshop_only", "alpha")
    conns = [psycopg.connect(db_url, autocommit=True) for _ in range(2)]
    barrier = threading.Barrier(2)
    out: list = []

    def run(c, mid):
        barrier.wait()
        out.append(c.execute(DECLINE, (r["id"], mid, None)).fetchone()[4])

    threads = [threading.Thread(target=run, args=(c, w.mech[n])) for c, n in zip(conns, ("a1", "a2"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for c in conns:
        c.close()
    assert sorted(out) == ["expired", "pending"]
    assert event_types(conn, r["id"]).count("expired") == 1
