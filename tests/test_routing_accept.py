"""accept_session_request: race safety, eligibility, windows, auto-population of workshop columns."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.dbutil import ACCEPT_AS as ACCEPT
from tests.test_routing_world import (
    add_mechanic,
    build_world,
    event_types,
    events,
    expect_error,
    new_request,
    request_row,
    session_row,
)

RAW_ACCEPT = "SELECT * FROM accept_session_request(%s, %s)"


@pytest.fixture
def world(conn):
    return build_world(conn)


def race(db_url, request_id, mechanic_ids):
    """Every mechanic accepts at once, each on its own connection; returns {mechanic_id: 'ok' | sqlstate}."""
    conns = [psycopg.connect(db_url, autocommit=True) for _ in mechanic_ids]
    barrier = threading.Barrier(len(mechanic_ids))
    results: dict = {}

    def attempt(c, mid):
        barrier.wait()
        try:
            c.execute(ACCEPT, (request_id, mid)).fetchone()
            results[mid] = "ok"
        except psycopg.Error as exc:
            results[mid] = exc.sqlstate

    threads = [threading.Thread(target=attempt, args=(c, m)) for c, m in zip(conns, mechanic_ids, strict=True)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for c in conns:
            c.close()
    assert len(results) == len(mechanic_ids)
    return results


def test_fifty_concurrent_accepts_exactly_one_wins(conn, db_url, world):
    w = world
    # 50 eligible mechanics: 20 of alpha, 15 of beta, 15 independents.
    mids = (
        [add_mechanic(conn, f"ra{i}", w.ws["alpha"]) for i in range(20)]
        + [add_mechanic(conn, f"rb{i}", w.ws["beta"]) for i in range(15)]
        + [add_mechanic(conn, f"ri{i}", None) for i in range(15)]
    )
    r = new_request(conn, w, "broadcast", "alpha")
    results = race(db_url, r["id"], mids)
    winners = [m for m, res in results.items() if res == "ok"]
    assert len(winners) == 1, results
    assert sorted(res for res in results.values() if res != "ok") == ["SR409"] * 49
    winner = winners[0]
    wws = conn.execute("SELECT workshop_id FROM mechanics WHERE id = %s", (winner,)).fetchone()[0]
    req = request_row(conn, r["id"])
    assert (req["status"], req["mechanic_id"], req["workshop_id"], req["outcome"]) == ("accepted", winner, wws, "accepted")
    sess = session_row(conn, r["session_id"])
    assert (sess["mechanic_id"], sess["workshop_id"], sess["preferred_workshop_id"]) == (winner, wws, w.ws["alpha"])
    assert event_types(conn, r["id"]).count("accepted") == 1
    assert conn.execute(
        "SELECT count(*) FROM routing_outbox WHERE request_id = %s AND event_type = 'accepted'", (r["id"],)
    ).fetchone()[0] == 1


def test_fifty_concurrent_accepts_on_workshop_only_request(conn, db_url, world):
    w = world
    insiders = [add_mechanic(conn, f"wa{i}", w.ws["alpha"]) for i in range(30)]
    outsiders = [add_mechanic(conn, f"wb{i}", w.ws["beta"]) for i in range(10)]
    outsiders += [add_mechanic(conn, f"wi{i}", None) for i in range(10)]
    r = new_request(conn, w, "workshop_only", "alpha")
    results = race(db_url, r["id"], insiders + outsiders)
    assert all(results[m] == "SR403" for m in outsiders)
    assert sorted(results[m] for m in insiders) == ["SR409"] * 29 + ["ok"]
    req = request_row(conn, r["id"])
    assert req["mechanic_id"] in insiders and req["workshop_id"] == w.ws["alpha"]
    assert session_row(conn, r["session_id"])["workshop_id"] == w.ws["alpha"]


def test_workshop_only_outsider_can_never_accept(conn, world):
    w = world
    r = new_request(conn, w, "workshop_only", "alpha")
    for name in ("b1", "i1"):
        err = expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech[name]), "mechanic_id")
        assert "workshop" in str(err)
    # not even after the sweep or long after creation
    conn.execute("UPDATE session_requests SET created_at = now() - interval '5 minutes' WHERE id = %s", (r["id"],))
    conn.execute("SELECT * FROM ssr_private.sweep_session_requests(now())")
    expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech["b1"]), "mechanic_id")
    row = conn.execute(ACCEPT, (r["id"], w.mech["a2"])).fetchone()
    assert row is not None
    req = request_row(conn, r["id"])
    assert (req["mechanic_id"], req["workshop_id"]) == (w.mech["a2"], w.ws["alpha"])
    # once taken: still 403 for outsiders, 409 for the workshop's other mechanics
    expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech["b1"]), "mechanic_id")
    expect_error(conn, "SR409", ACCEPT, (r["id"], w.mech["a1"]), "request_id")


def test_hybrid_outsider_blocked_inside_window_allowed_after(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    assert r["exclusive_until"] is not None
    err = expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech["b1"]), "mechanic_id")
    assert "reserved" in str(err)
    expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech["i1"]), "mechanic_id")
    # time passes: the window ended a second ago, the sweep escalates
    conn.execute(
        "UPDATE session_requests SET created_at = now() - interval '61 seconds', "
        "exclusive_until = now() - interval '1 second' WHERE id = %s",
        (r["id"],),
    )
    assert conn.execute("SELECT escalated, expired FROM ssr_private.sweep_session_requests(now())").fetchone() == (1, 0)
    conn.execute(ACCEPT, (r["id"], w.mech["i1"]))
    req = request_row(conn, r["id"])
    assert (req["status"], req["mechanic_id"], req["workshop_id"]) == ("accepted", w.mech["i1"], None)
    sess = session_row(conn, r["session_id"])
    assert (sess["mechanic_id"], sess["workshop_id"], sess["preferred_workshop_id"]) == (w.mech["i1"], None, w.ws["alpha"])
    evs = events(conn, r["id"])
    assert [t for t, _ in evs] == ["created", "offered", "escalated", "accepted"]
    accepted = evs[-1][1]
    assert accepted["served_by_preferred_workshop"] is False and accepted["independent_mechanic"] is True


def test_hybrid_outsider_allowed_after_window_even_before_sweep(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    conn.execute("UPDATE session_requests SET exclusive_until = now() - interval '1 second' WHERE id = %s", (r["id"],))
    conn.execute(ACCEPT, (r["id"], w.mech["b1"]))
    req = request_row(conn, r["id"])
    assert (req["mechanic_id"], req["workshop_id"]) == (w.mech["b1"], w.ws["beta"])


def test_hybrid_preferred_workshop_accepts_inside_window(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    conn.execute(ACCEPT, (r["id"], w.mech["a1"]))
    req = request_row(conn, r["id"])
    assert (req["workshop_id"], req["outcome"]) == (w.ws["alpha"], "accepted")
    detail = events(conn, r["id"])[-1][1]
    assert detail["inside_window"] is True and detail["served_by_preferred_workshop"] is True


def test_hybrid_without_window_is_open_to_everyone(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "empty")
    conn.execute(ACCEPT, (r["id"], w.mech["i2"]))
    assert request_row(conn, r["id"])["mechanic_id"] == w.mech["i2"]


@pytest.mark.parametrize("name", ["a3", "a4", "s1", "p1", "i3", "i4"])
def test_ineligible_mechanics_cannot_accept_broadcast(conn, world, name):
    w = world
    r = new_request(conn, w, "broadcast", None)
    expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech[name]), "mechanic_id")
    assert request_row(conn, r["id"])["status"] == "pending"
    assert event_types(conn, r["id"]) == ["created", "offered"]


def test_taken_expired_cancelled_and_unknown(conn, world):
    w = world
    unknown = "9d0c6a44-0000-4000-8000-000000000002"
    taken = new_request(conn, w, "broadcast", None)
    conn.execute(ACCEPT, (taken["id"], w.mech["a1"]))
    err = expect_error(conn, "SR409", ACCEPT, (taken["id"], w.mech["b1"]), "request_id")
    assert "taken" in str(err)
    # the winner retrying gets the same row back and nothing new is written
    before = event_types(conn, taken["id"])
    assert conn.execute(f"SELECT mechanic_id FROM ({ACCEPT}) AS a", (taken["id"], w.mech["a1"])).fetchone()[0] == w.mech["a1"]
    assert event_types(conn, taken["id"]) == before

    overdue = new_request(conn, w, "broadcast", None)
    conn.execute("UPDATE session_requests SET expires_at = now() - interval '1 second' WHERE id = %s", (overdue["id"],))
    assert "expired" in str(expect_error(conn, "SR409", ACCEPT, (overdue["id"], w.mech["a1"]), "request_id"))

    cancelled = new_request(conn, w, "broadcast", None)
    conn.execute("SELECT * FROM ssr_private.cancel_session_request(%s, 'customer changed their mind')", (cancelled["id"],))
    assert "cancelled" in str(expect_error(conn, "SR409", ACCEPT, (cancelled["id"], w.mech["a1"]), "request_id"))
    evs = events(conn, cancelled["id"])
    assert evs[-1][0] == "cancelled" and evs[-1][1]["reason"] == "customer changed their mind"
    expect_error(conn, "SR409", "SELECT * FROM ssr_private.cancel_session_request(%s)", (cancelled["id"],), "request_id")

    expect_error(conn, "SR404", ACCEPT, (unknown, w.mech["a1"]), "request_id")
    expect_error(conn, "SR404", ACCEPT, (overdue["id"], unknown), "mechanic_id")
    expect_error(conn, "SR400", ACCEPT, (None, w.mech["a1"]), "request_id")
    expect_error(conn, "SR400", ACCEPT, (overdue["id"], None), "mechanic_id")
    expect_error(conn, "SR404", "SELECT * FROM ssr_private.cancel_session_request(%s)", (unknown,), "request_id")
    expect_error(conn, "22P02", ACCEPT, ("nope", w.mech["a1"]))


def test_direct_update_of_mechanic_id_auto_populates(conn, world):
    """The spec: a trigger fills the workshop columns whoever sets mechanic_id."""
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    conn.execute(
        "UPDATE session_requests SET mechanic_id = %s, status = 'accepted', accepted_at = now() WHERE id = %s",
        (w.mech["b1"], r["id"]),
    )
    req = request_row(conn, r["id"])
    assert req["workshop_id"] == w.ws["beta"]
    sess = session_row(conn, r["session_id"])
    assert (sess["mechanic_id"], sess["workshop_id"], sess["preferred_workshop_id"]) == (w.mech["b1"], w.ws["beta"], w.ws["alpha"])
    assert event_types(conn, r["id"])[-1] == "accepted"
    # reassigning to an independent clears the workshop
    conn.execute("UPDATE session_requests SET mechanic_id = %s WHERE id = %s", (w.mech["i1"], r["id"]))
    assert request_row(conn, r["id"])["workshop_id"] is None
    assert session_row(conn, r["session_id"])["workshop_id"] is None


def test_mechanic_session_cannot_accept_for_someone_else(conn, world):
    w = world
    r = new_request(conn, w, "broadcast", None)
    # no identity at all: refused (fail-closed), even for the owner
    err = expect_error(conn, "SR403", RAW_ACCEPT, (r["id"], w.mech["a1"]), "mechanic_id")
    assert "no verified mechanic identity" in str(err)
    conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(w.mech["a1"]),))
    expect_error(conn, "SR403", RAW_ACCEPT, (r["id"], w.mech["b1"]), "mechanic_id")
    conn.execute(RAW_ACCEPT, (r["id"], w.mech["a1"]))
    assert request_row(conn, r["id"])["mechanic_id"] == w.mech["a1"]
