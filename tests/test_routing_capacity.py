"""Capacity: a mechanic holds at most `capacity` sessions (waiting after accept, or live).

At capacity they are offered nothing (offers, row-level security, routing) and cannot accept
(SR409 on mechanic_id); completing or closing a session frees the slot. Races run on real
concurrent connections."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.lifecycle_sql import ACCEPT_AS as ACCEPT
from tests.lifecycle_sql import MOVE_AS, offered, visible_as
from tests.test_routing_world import (
    build_world,
    expect_error,
    new_request,
    request_row,
)


@pytest.fixture
def world(conn):
    return build_world(conn)


def open_sessions(conn, mechanic_id) -> int:
    return conn.execute("SELECT open_sessions FROM mechanics WHERE id = %s", (mechanic_id,)).fetchone()[0]


def recount(conn) -> dict:
    """open_sessions as the definition says: sessions assigned to the mechanic, waiting or live."""
    return dict(conn.execute(
        "SELECT m.id, count(s.id) FROM mechanics AS m LEFT JOIN sessions AS s "
        "ON s.mechanic_id = m.id AND s.status IN ('waiting', 'live') GROUP BY m.id"
    ).fetchall())


def counters(conn) -> dict:
    return dict(conn.execute("SELECT id, open_sessions FROM mechanics").fetchall())


def race(db_url, calls):
    """Runs every (request_id, mechanic_id) accept at once, each on its own connection.
    Returns a list of 'ok' or (sqlstate, column) in the order of calls."""
    conns = [psycopg.connect(db_url, autocommit=True) for _ in calls]
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def attempt(i, c, rid, mid):
        barrier.wait()
        try:
            c.execute(ACCEPT, (rid, mid)).fetchone()
            results[i] = "ok"
        except psycopg.Error as exc:
            results[i] = (exc.sqlstate, exc.diag.column_name)

    threads = [
        threading.Thread(target=attempt, args=(i, c, rid, mid))
        for i, (c, (rid, mid)) in enumerate(zip(conns, calls, strict=True))
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for c in conns:
            c.close()
    assert all(r is not None for r in results)
    return results


@pytest.mark.parametrize("capacity", [1, 3])
def test_twenty_way_race_by_one_mechanic_gives_capacity_successes(conn, db_url, world, capacity):
    w = world
    mid = w.mech["a1"]
    conn.execute("UPDATE mechanics SET capacity = %s WHERE id = %s", (capacity, mid))
    rids = [new_request(conn, w, "broadcast")["id"] for _ in range(20)]
    results = race(db_url, [(rid, mid) for rid in rids])
    assert results.count("ok") == capacity, results
    refusals = [r for r in results if r != "ok"]
    assert refusals == [("SR409", "mechanic_id")] * (20 - capacity)
    taken = conn.execute(
        "SELECT count(*) FROM session_requests WHERE id = ANY(%s) AND status = 'accepted' AND mechanic_id = %s",
        (rids, mid),
    ).fetchone()[0]
    assert taken == capacity
    assert open_sessions(conn, mid) == capacity == recount(conn)[mid]
    assert offered(conn, mid) == set()


def test_crossed_races_of_several_mechanics_never_deadlock_or_overfill(conn, db_url, world):
    """4 mechanics of capacity 1 each accept the same 5 requests at once (20 calls): no
    deadlock, at most one winner per request and one slot per mechanic."""
    w = world
    mids = [w.mech[n] for n in ("a1", "a2", "b1", "i1")]
    rids = [new_request(conn, w, "broadcast")["id"] for _ in range(5)]
    calls = [(rid, mid) for mid in mids for rid in rids]
    results = race(db_url, calls)
    assert {r for r in results if r != "ok"} <= {("SR409", "mechanic_id"), ("SR409", "request_id")}, results
    wins = [call for call, r in zip(calls, results, strict=True) if r == "ok"]
    assert len({rid for rid, _ in wins}) == len(wins)  # one winner per request
    assert len({mid for _, mid in wins}) == len(wins)  # one slot per mechanic
    assert 1 <= len(wins) <= 4
    assert counters(conn) == recount(conn)


def test_at_capacity_offered_nothing_refused_and_freed_by_the_end_of_the_session(conn, world):
    w = world
    a1 = w.mech["a1"]
    r1 = new_request(conn, w, "broadcast")
    r2 = new_request(conn, w, "workshop_only", "alpha")
    assert offered(conn, a1) == {r1["id"], r2["id"]}
    conn.execute(ACCEPT, (r1["id"], a1))
    assert open_sessions(conn, a1) == 1
    # at capacity: no offers, no row-level visibility of offers, not routed, cannot accept
    assert offered(conn, a1) == set()
    assert visible_as(conn, a1) == {r1["id"]}
    routed = {m for (m,) in conn.execute("SELECT mechanic_id FROM get_mechanics_for_routing(%s, 'workshop_only')",
                                         (w.ws["alpha"],)).fetchall()}
    assert routed == {w.mech["a2"]}
    err = expect_error(conn, "SR409", ACCEPT, (r2["id"], a1), "mechanic_id")
    assert "capacity" in str(err)
    # a retry of the accept it holds is still answered with the row
    assert conn.execute(ACCEPT, (r1["id"], a1)).fetchone() is not None
    # live still holds the slot; completed frees it
    conn.execute(MOVE_AS("start_session"), (r1["session_id"], a1))
    assert offered(conn, a1) == set()
    conn.execute(MOVE_AS("complete_session"), (r1["session_id"], a1))
    assert open_sessions(conn, a1) == 0
    assert offered(conn, a1) == {r2["id"]}
    conn.execute(ACCEPT, (r2["id"], a1))
    # no-show frees it too
    conn.execute(MOVE_AS("mark_session_no_show"), (r2["session_id"], a1))
    assert open_sessions(conn, a1) == 0
    assert request_row(conn, r2["id"])["status"] == "accepted"


def test_capacity_per_mechanic_and_the_hybrid_window_of_a_busy_workshop(conn, world):
    w = world
    a1, a2 = w.mech["a1"], w.mech["a2"]
    conn.execute("UPDATE mechanics SET capacity = 2 WHERE id = %s", (a1,))
    reqs = [new_request(conn, w, "broadcast") for _ in range(3)]
    conn.execute(ACCEPT, (reqs[0]["id"], a1))
    conn.execute(ACCEPT, (reqs[1]["id"], a1))
    expect_error(conn, "SR409", ACCEPT, (reqs[2]["id"], a1), "mechanic_id")
    conn.execute(ACCEPT, (reqs[2]["id"], a2))
    # every mechanic of alpha is busy: nobody of the preferred workshop can take a hybrid
    # request, so it gets no exclusive window at all: open to everyone from creation, with
    # the reason in the audit trail
    hy = new_request(conn, w, "hybrid", "alpha")
    row = request_row(conn, hy["id"])
    assert row["exclusive_until"] is None and row["escalated_at"] is None
    skipped = conn.execute(
        "SELECT detail ->> 'reason' FROM routing_events WHERE request_id = %s AND event_type = 'window_skipped'",
        (hy["id"],)).fetchall()
    assert skipped == [("preferred_workshop_at_capacity",)]
    offered = conn.execute(
        "SELECT detail ->> 'audience' FROM routing_events WHERE request_id = %s AND event_type = 'offered'",
        (hy["id"],)).fetchall()
    assert offered == [("everyone",)]
    # one of them finishes: the next hybrid request gets its window again
    conn.execute("UPDATE sessions SET status = 'completed', started_at = now(), ended_at = now() WHERE id = %s",
                 (reqs[2]["session_id"],))
    hy2 = new_request(conn, w, "hybrid", "alpha")
    assert request_row(conn, hy2["id"])["exclusive_until"] is not None
    assert w.mech["b1"] in {m for (m,) in conn.execute(
        "SELECT mechanic_id FROM get_mechanics_for_routing(%s, 'hybrid')", (w.ws["alpha"],)).fetchall()}
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE mechanics SET capacity = 0 WHERE id = %s", (a1,))


def test_the_counter_follows_every_change_of_sessions_and_rebuild_repairs_it(conn, world):
    w = world
    a1, a2, b1 = w.mech["a1"], w.mech["a2"], w.mech["b1"]
    for m in (a1, a2, b1):
        conn.execute("UPDATE mechanics SET capacity = 5 WHERE id = %s", (m,))
    reqs = [new_request(conn, w, "broadcast") for _ in range(4)]
    for r, m in zip(reqs, (a1, a1, a2, b1), strict=True):
        conn.execute(ACCEPT, (r["id"], m))
    assert counters(conn) == recount(conn)
    conn.execute("UPDATE sessions SET status = 'refunded' WHERE id = %s", (reqs[0]["session_id"],))
    conn.execute("UPDATE sessions SET mechanic_id = %s WHERE id = %s", (a2, reqs[1]["session_id"]))
    conn.execute("UPDATE sessions SET status = 'live', started_at = now() WHERE id = %s", (reqs[2]["session_id"],))
    conn.execute("UPDATE sessions SET status = 'waiting' WHERE id = %s", (reqs[0]["session_id"],))
    assert counters(conn) == recount(conn)
    assert open_sessions(conn, a2) == 2 and open_sessions(conn, a1) == 1
    conn.execute("UPDATE mechanics SET open_sessions = 7 WHERE id = %s", (b1,))
    assert conn.execute("SELECT ssr_private.mechanic_state_rebuild()").fetchone()[0] >= 1
    assert counters(conn) == recount(conn)
    assert conn.execute("SELECT ssr_private.mechanic_state_rebuild()").fetchone()[0] == 0
