"""The session's life after accept: start (live), complete or no-show by the accepting
mechanic, then one review by its customer, feeding workshop_stats and the directory."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.lifecycle_sql import ACCEPT_AS as ACCEPT
from tests.lifecycle_sql import MOVE_AS
from tests.lifecycle_sql import REVIEW_AS as REVIEW
from tests.test_routing_world import build_world, expect_error, new_request, session_row

MOVES = {"start": MOVE_AS("start_session"), "complete": MOVE_AS("complete_session"),
         "no_show": MOVE_AS("mark_session_no_show")}
RAW_START = "SELECT * FROM start_session(%s, %s)"
RAW_REVIEW = "SELECT * FROM review_session(%s, %s, %s, %s)"
UNKNOWN = "9d0c6a44-0000-4000-8000-00000000000a"


@pytest.fixture
def world(conn):
    return build_world(conn)


def accepted_session(conn, w, mechanic="a1", routing="broadcast", workshop=None):
    r = new_request(conn, w, routing, workshop)
    conn.execute(ACCEPT, (r["id"], w.mech[mechanic]))
    return r["session_id"]


def stats(conn, workshop_id):
    return conn.execute(
        "SELECT review_count, rating_sum FROM workshop_stats WHERE workshop_id = %s", (workshop_id,)
    ).fetchone()


def test_start_complete_review_feeds_the_workshop_stats_and_the_directory(conn, world):
    w = world
    sid = accepted_session(conn, w)
    before = conn.execute(
        "SELECT ranking_score FROM get_workshop_directory(100, 0) WHERE workshop_id = %s", (w.ws["alpha"],)
    ).fetchone()[0]
    s = session_row(conn, sid)
    assert (s["status"], s["mechanic_id"], s["workshop_id"]) == ("waiting", w.mech["a1"], w.ws["alpha"])
    conn.execute(MOVES["start"], (sid, w.mech["a1"]))
    s = session_row(conn, sid)
    assert s["status"] == "live" and s["started_at"] is not None and s["ended_at"] is None
    assert conn.execute(MOVES["start"], (sid, w.mech["a1"])).fetchone() is not None  # retry: unchanged
    assert session_row(conn, sid)["started_at"] == s["started_at"]
    conn.execute(MOVES["complete"], (sid, w.mech["a1"]))
    s = session_row(conn, sid)
    assert s["status"] == "completed" and s["ended_at"] >= s["started_at"]
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    review = cur.execute(REVIEW, (sid, w.customer, 5, "  Great help!  ")).fetchone()
    assert (review["rating"], review["comment"], review["mechanic_id"]) == (5, "Great help!", w.mech["a1"])
    assert stats(conn, w.ws["alpha"]) == (1, 5)
    after = conn.execute(
        "SELECT ranking_score FROM get_workshop_directory(100, 0) WHERE workshop_id = %s", (w.ws["alpha"],)
    ).fetchone()[0]
    assert after > before
    expect_error(conn, "SR409", REVIEW, (sid, w.customer, 4, None), "session_id")  # once


# status the session is in -> {move: expected}: 'ok' (moved), 'same' (a retry, unchanged) or an error
TRANSITIONS = {
    "waiting": {"start": "ok", "complete": "SR409", "no_show": "ok"},
    "live": {"start": "same", "complete": "ok", "no_show": "SR409"},
    "completed": {"start": "SR409", "complete": "same", "no_show": "SR409"},
    "no_show": {"start": "SR409", "complete": "SR409", "no_show": "same"},
    "cancelled": {"start": "SR409", "complete": "SR409", "no_show": "SR409"},
    "refunded": {"start": "SR409", "complete": "SR409", "no_show": "SR409"},
}
TARGET = {"start": "live", "complete": "completed", "no_show": "no_show"}


@pytest.mark.parametrize("status", list(TRANSITIONS))
def test_every_transition_from_every_status(conn, world, status):
    w = world
    for move, expected in TRANSITIONS[status].items():
        sid = accepted_session(conn, w, "a1")
        conn.execute(
            "UPDATE sessions SET status = %s, started_at = CASE WHEN %s IN ('live', 'completed') THEN now() END, "
            "ended_at = CASE WHEN %s IN ('completed', 'no_show') THEN now() END WHERE id = %s",
            (status, status, status, sid),
        )
        if expected in ("ok", "same"):
            row = conn.execute(MOVES[move], (sid, w.mech["a1"])).fetchone()
            assert row is not None
            assert session_row(conn, sid)["status"] == (TARGET[move] if expected == "ok" else status)
        else:
            err = expect_error(conn, expected, MOVES[move], (sid, w.mech["a1"]), "session_id")
            assert status in str(err)
            assert session_row(conn, sid)["status"] == status
        # nobody else may move it, whatever its status
        expect_error(conn, "SR403", MOVES[move], (sid, w.mech["a2"]), "mechanic_id")
        conn.execute("UPDATE sessions SET status = 'completed', started_at = now(), ended_at = now() WHERE id = %s", (sid,))


def test_moves_refuse_bad_input_unassigned_sessions_and_other_mechanics(conn, world):
    w = world
    pending = new_request(conn, w, "broadcast")
    for sql in MOVES.values():
        expect_error(conn, "SR400", sql, (None, w.mech["a1"]), "session_id")
        expect_error(conn, "SR400", sql, (pending["session_id"], None), "mechanic_id")
        expect_error(conn, "SR404", sql, (UNKNOWN, w.mech["a1"]), "session_id")
        err = expect_error(conn, "SR403", sql, (pending["session_id"], w.mech["a1"]), "mechanic_id")
        assert "not accepted" in str(err)
    expect_error(conn, "SR400", "SELECT * FROM ssr_private.session_transition(%s, %s, 'pause')",
                 (pending["session_id"], w.mech["a1"]), "action")
    sid = accepted_session(conn, w, "a1")
    conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(w.mech["a2"]),))
    expect_error(conn, "SR403", RAW_START, (sid, w.mech["a1"]), "mechanic_id")
    conn.execute("SELECT set_config('app.mechanic_id', '', FALSE)")
    assert session_row(conn, sid)["status"] == "waiting"


@pytest.mark.parametrize("status", ["waiting", "live", "no_show", "cancelled", "refunded"])
def test_only_a_completed_session_can_be_reviewed(conn, world, status):
    w = world
    sid = accepted_session(conn, w)
    conn.execute("UPDATE sessions SET status = %s WHERE id = %s", (status, sid))
    err = expect_error(conn, "SR409", REVIEW, (sid, w.customer, 5, None), "session_id")
    assert status in str(err)


def test_review_refusals(conn, world):
    w = world
    sid = accepted_session(conn, w)
    conn.execute(MOVES["start"], (sid, w.mech["a1"]))
    conn.execute(MOVES["complete"], (sid, w.mech["a1"]))
    expect_error(conn, "SR400", REVIEW, (None, w.customer, 5, None), "session_id")
    expect_error(conn, "SR400", REVIEW, (sid, None, 5, None), "customer_id")
    for rating in (None, 0, 6, -1):
        expect_error(conn, "SR400", REVIEW, (sid, w.customer, rating, None), "rating")
    expect_error(conn, "SR400", REVIEW, (sid, w.customer, 4, "x" * 2001), "comment")
    expect_error(conn, "SR404", REVIEW, (UNKNOWN, w.customer, 4, None), "session_id")
    expect_error(conn, "SR403", REVIEW, (sid, w.other_customer, 4, None), "customer_id")
    conn.execute("SELECT set_config('app.customer_id', %s, FALSE)", (str(w.other_customer),))
    expect_error(conn, "SR403", RAW_REVIEW, (sid, w.customer, 4, None), "customer_id")
    conn.execute("SELECT set_config('app.customer_id', '', FALSE)")
    expect_error(conn, "SR403", RAW_REVIEW, (sid, w.customer, 4, None), "customer_id")  # no identity: refused
    assert conn.execute(REVIEW, (sid, w.customer, 1, "")).fetchone() is not None
    assert conn.execute("SELECT rating, comment FROM reviews WHERE session_id = %s", (sid,)).fetchone() == (1, None)


def test_two_concurrent_reviews_one_wins(conn, db_url, world):
    w = world
    sid = accepted_session(conn, w)
    conn.execute(MOVES["start"], (sid, w.mech["a1"]))
    conn.execute(MOVES["complete"], (sid, w.mech["a1"]))
    conns = [psycopg.connect(db_url, autocommit=True) for _ in range(2)]
    barrier = threading.Barrier(2)
    out: list = []

    def run(c, rating):
        barrier.wait()
        try:
            c.execute(REVIEW, (sid, w.customer, rating, None)).fetchone()
            out.append("ok")
        except psycopg.Error as exc:
            out.append(exc.sqlstate)

    threads = [threading.Thread(target=run, args=(c, n)) for c, n in zip(conns, (2, 4), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for c in conns:
        c.close()
    assert sorted(out) == ["SR409", "ok"]
    assert stats(conn, w.ws["alpha"])[0] == 1
