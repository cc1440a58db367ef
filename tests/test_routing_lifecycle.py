"""Sweep (expiry, escalation), audit trail, explain_routing, notifications, offers and RLS."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.dbutil import ACCEPT_AS as ACCEPT
from tests.dbutil import offers_as
from tests.test_routing_world import (
    build_world,
    event_types,
    events,
    expect_error,
    new_request,
    payloads,
    request_row,
)

RAW_ACCEPT = "SELECT * FROM accept_session_request(%s, %s)"


def claims_for(mechanic_id, role="mechanic"):
    """request.jwt.claims as PostgREST sets them: sub and role (and exp)."""
    return json.dumps({"sub": str(mechanic_id), "role": role, "exp": 4102444800})


@pytest.fixture
def world(conn):
    return build_world(conn)


def sweep(conn, at):
    return conn.execute("SELECT escalated, expired FROM ssr_private.sweep_session_requests(%s)", (at,)).fetchone()


def now(conn):
    return conn.execute("SELECT now()").fetchone()[0]


# --- sweep -------------------------------------------------------------------------------


def test_sweep_expires_overdue_workshop_only_request_with_outcome(conn, world):
    w = world
    r = new_request(conn, w, "workshop_only", "empty")
    t0 = now(conn)
    assert sweep(conn, t0 + timedelta(seconds=599)) == (0, 0)
    assert request_row(conn, r["id"])["status"] == "pending"
    at = t0 + timedelta(seconds=601)
    assert sweep(conn, at) == (0, 1)
    req = request_row(conn, r["id"])
    assert (req["status"], req["outcome"], req["closed_at"], req["mechanic_id"]) == ("expired", "expired_no_mechanic", at, None)
    evs = events(conn, r["id"])
    assert [t for t, _ in evs] == ["created", "offered", "expired"]
    assert evs[-1][1]["outcome"] == "expired_no_mechanic"
    assert sweep(conn, at + timedelta(hours=1)) == (0, 0)  # nothing twice
    # the workshop's mechanic comes online too late
    conn.execute("UPDATE mechanics SET is_available = TRUE WHERE id = %s", (w.mech["e1"],))
    assert "expired" in str(expect_error(conn, "SR409", ACCEPT, (r["id"], w.mech["e1"]), "request_id"))


def test_sweep_escalates_hybrid_after_window_once(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    b = new_request(conn, w, "broadcast", None)
    t0 = request_row(conn, r["id"])["exclusive_until"]
    assert sweep(conn, t0 - timedelta(seconds=1)) == (0, 0)
    assert sweep(conn, t0) == (1, 0)
    assert request_row(conn, r["id"])["escalated_at"] == t0
    assert sweep(conn, t0 + timedelta(seconds=5)) == (0, 0)
    evs = events(conn, r["id"])
    assert [t for t, _ in evs] == ["created", "offered", "escalated"]
    assert evs[-1][1]["audience"] == "everyone" and evs[-1][1]["candidate_count"] == 5
    assert event_types(conn, b["id"]) == ["created", "offered"]
    channels = conn.execute(
        "SELECT channel FROM routing_outbox WHERE request_id = %s AND event_type = 'escalated' ORDER BY channel", (r["id"],)
    ).fetchall()
    assert [c for (c,) in channels] == ["session_requests", "session_requests_ws_" + w.ws["alpha"].hex]


def test_sweep_cuts_the_window_short_when_the_preferred_workshop_goes_unavailable(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    window_end = r["exclusive_until"]
    expect_error(conn, "SR403", ACCEPT, (r["id"], w.mech["b1"]), "mechanic_id")
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE id IN (%s, %s)", (w.mech["a1"], w.mech["a2"]))
    at = now(conn)
    assert sweep(conn, at) == (1, 0)
    req = request_row(conn, r["id"])
    assert req["escalated_at"] == at and req["exclusive_until"] == at
    t, d = events(conn, r["id"])[-1]
    assert t == "escalated" and d["reason"] == "preferred_workshop_unavailable"
    # As timestamps: JSON drops trailing zeros of the microseconds that isoformat() keeps.
    assert datetime.fromisoformat(d["exclusive_until"]) == window_end
    conn.execute(ACCEPT, (r["id"], w.mech["b1"]))
    assert request_row(conn, r["id"])["workshop_id"] == w.ws["beta"]


def test_sweep_expires_rather_than_escalates_when_both_are_due(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    assert sweep(conn, now(conn) + timedelta(hours=1)) == (0, 1)
    assert event_types(conn, r["id"]) == ["created", "offered", "expired"]


def test_concurrent_sweeps_expire_each_request_once(conn, db_url, world):
    w = world
    ids = [new_request(conn, w, "workshop_only", "alpha")["id"] for _ in range(40)]
    at = now(conn) + timedelta(hours=1)
    conns = [psycopg.connect(db_url, autocommit=True) for _ in range(4)]
    barrier = threading.Barrier(len(conns))
    got = []

    def run(c):
        barrier.wait()
        got.append(c.execute("SELECT expired FROM ssr_private.sweep_session_requests(%s)", (at,)).fetchone()[0])

    threads = [threading.Thread(target=run, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for c in conns:
        c.close()
    assert len(got) == 4 and sum(got) == 40
    assert conn.execute(
        "SELECT count(*) FROM routing_events WHERE event_type = 'expired' AND request_id = ANY(%s)", (ids,)
    ).fetchone()[0] == 40


def test_sweep_rejects_null_now(conn, world):
    expect_error(conn, "SR400", "SELECT * FROM ssr_private.sweep_session_requests(NULL)", column="now")


# --- audit trail -------------------------------------------------------------------------


def test_routing_events_are_append_only(conn, world):
    r = new_request(conn, world, "broadcast", None)
    expect_error(conn, "SR403", "UPDATE routing_events SET detail = '{}' WHERE request_id = %s", (r["id"],))
    expect_error(conn, "SR403", "DELETE FROM routing_events WHERE request_id = %s", (r["id"],))
    assert event_types(conn, r["id"]) == ["created", "offered"]


def test_explain_routing_tells_the_story_in_order(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    conn.execute("UPDATE session_requests SET exclusive_until = now() - interval '1 second' WHERE id = %s", (r["id"],))
    sweep(conn, now(conn))
    conn.execute(ACCEPT, (r["id"], w.mech["b1"]))
    rows = conn.execute(
        "SELECT step, event_type, mechanic_id, workshop_id, narrative FROM ssr_private.explain_routing(%s)", (r["id"],)
    ).fetchall()
    assert [(s, t) for s, t, *_ in rows] == [(1, "created"), (2, "offered"), (3, "escalated"), (4, "accepted")]
    assert "hybrid" in rows[0][4] and "Workshop alpha" in rows[0][4] and "5 eligible" in rows[0][4]
    assert "2 mechanic(s) of workshop Workshop alpha" in rows[1][4]
    assert "escalated to everyone" in rows[2][4]
    assert rows[3][2] == w.mech["b1"] and rows[3][3] == w.ws["beta"]
    assert "Mechanic b1" in rows[3][4] and "Workshop beta" in rows[3][4]
    expect_error(conn, "SR404", "SELECT * FROM ssr_private.explain_routing(%s)", ("9d0c6a44-0000-4000-8000-000000000003",), "request_id")


def test_explain_routing_window_skip_and_expiry(conn, world):
    r = new_request(conn, world, "hybrid", "empty")
    sweep(conn, now(conn) + timedelta(hours=2))
    narr = [n for (n,) in conn.execute("SELECT narrative FROM ssr_private.explain_routing(%s)", (r["id"],)).fetchall()]
    assert len(narr) == 4
    assert "nobody available" in narr[1] and "every eligible mechanic" in narr[2] and "refund due" in narr[3]


# --- notifications -----------------------------------------------------------------------


def test_listener_receives_new_request_notification(conn, db_url, world):
    w = world
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN session_requests")
        listener.execute(f'LISTEN "session_requests_ws_{w.ws["alpha"].hex}"')
        b = new_request(conn, w, "broadcast", None)
        wo = new_request(conn, w, "workshop_only", "alpha")
        # written with the request, sent after commit by the relay (the worker runs it every 100 ms)
        assert conn.execute("SELECT count(*) FROM routing_outbox WHERE notified_at IS NULL").fetchone() == (2,)
        assert conn.execute("SELECT ssr_private.routing_outbox_relay()").fetchone() == (2,)
        assert conn.execute("SELECT ssr_private.routing_outbox_relay()").fetchone() == (0,)  # each row sent once
        got = payloads(listener.notifies(timeout=10, stop_after=2))
    assert [(p["event"], p["request_id"]) for p in got] == [("created", str(b["id"])), ("created", str(wo["id"]))]
    assert got[0]["audience"] == "everyone" and got[0]["routing_type"] == "broadcast" and got[0]["priority_score"] == 50
    assert got[1]["audience"] == "workshop" and got[1]["preferred_workshop_id"] == str(w.ws["alpha"])
    assert got[1]["priority_score"] == 100
    # each notification is an outbox row a consumer can replay
    ids = [p["outbox_id"] for p in got]
    replay = conn.execute("SELECT id, channel, payload FROM routing_outbox_replay(%s)", (ids[0] - 1,)).fetchall()
    assert [r[0] for r in replay] == ids
    assert replay[1][1] == "session_requests_ws_" + w.ws["alpha"].hex
    assert conn.execute("SELECT count(*) FROM routing_outbox_replay(%s, ARRAY['session_requests'])", (0,)).fetchone()[0] == 1


def test_notification_is_sent_only_on_commit(conn, db_url, world):
    w = world
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN session_requests")
        with psycopg.connect(db_url) as tx:  # not autocommit: an explicit transaction
            tx.execute(
                "SELECT id FROM ssr_private.create_session_request(%s, %s, NULL, NULL, NULL, 'broadcast')", (w.customer, w.plan)
            )
            tx.rollback()
        assert conn.execute("SELECT count(*) FROM routing_outbox").fetchone()[0] == 0
        assert conn.execute("SELECT ssr_private.routing_outbox_relay()").fetchone() == (0,)
        kept = new_request(conn, w, "broadcast", None)
        # a relay's batch taken but rolled back is sent by the next relay
        with psycopg.connect(db_url) as relay:
            assert relay.execute("SELECT ssr_private.routing_outbox_relay()").fetchone() == (1,)
            assert conn.execute("SELECT ssr_private.routing_outbox_relay()").fetchone() == (0,)  # locked: skipped
            relay.rollback()
        assert conn.execute("SELECT ssr_private.routing_outbox_relay(1)").fetchone() == (1,)
        got = payloads(listener.notifies(timeout=10, stop_after=1))
    assert [p["request_id"] for p in got] == [str(kept["id"])]


def test_workshop_only_requests_stay_off_the_global_channel(conn, world):
    w = world
    r = new_request(conn, w, "workshop_only", "alpha")
    conn.execute(ACCEPT, (r["id"], w.mech["a1"]))
    rows = conn.execute("SELECT channel, event_type FROM routing_outbox WHERE request_id = %s ORDER BY id", (r["id"],)).fetchall()
    ch = "session_requests_ws_" + w.ws["alpha"].hex
    assert rows == [(ch, "created"), (ch, "accepted")]


# --- offers and row-level security -------------------------------------------------------


@pytest.fixture
def board(conn, world):
    """Five requests in different states (oldest first)."""
    w = world
    reqs = {
        "wo_alpha": new_request(conn, w, "workshop_only", "alpha"),
        "wo_beta": new_request(conn, w, "workshop_only", "beta"),
        "hy_alpha": new_request(conn, w, "hybrid", "alpha"),  # inside its window
        "bc": new_request(conn, w, "broadcast", None),
        "taken": new_request(conn, w, "broadcast", None),
    }
    conn.execute("UPDATE mechanics SET capacity = 2 WHERE id = %s", (w.mech["a1"],))  # still free after "taken"
    conn.execute(ACCEPT, (reqs["taken"]["id"], w.mech["a1"]))
    # distinct ages, oldest first as listed
    for i, key in enumerate(reqs):
        conn.execute(
            "UPDATE session_requests SET created_at = created_at - make_interval(secs => %s) WHERE id = %s",
            (100 - i, reqs[key]["id"]),
        )
    return {k: v["id"] for k, v in reqs.items()}


def offers(conn, w, name, limit=50):
    return [
        (rid, score)
        for rid, score in conn.execute(offers_as("request_id, priority_score"), (w.mech[name], limit)).fetchall()
    ]


def test_offers_per_mechanic_by_priority_then_age(conn, world, board):
    w, b = world, board
    assert offers(conn, w, "a1") == [(b["wo_alpha"], 100), (b["hy_alpha"], 100), (b["bc"], 50)]
    assert offers(conn, w, "a1", limit=1) == [(b["wo_alpha"], 100)]
    assert offers(conn, w, "b1") == [(b["wo_beta"], 100), (b["bc"], 50)]
    assert offers(conn, w, "i1") == [(b["bc"], 50)]
    for name in ("a3", "a4", "s1", "p1"):
        assert offers(conn, w, name) == []
    conn.execute("UPDATE session_requests SET exclusive_until = now() - interval '1 second' WHERE id = %s", (b["hy_alpha"],))
    assert offers(conn, w, "b1") == [(b["wo_beta"], 100), (b["hy_alpha"], 50), (b["bc"], 50)]
    assert offers(conn, w, "i1") == [(b["bc"], 50), (b["hy_alpha"], 25)]
    expect_error(conn, "SR400", offers_as(), (w.mech["a1"], 0), "limit")
    expect_error(conn, "SR400", offers_as(), (w.mech["a1"], 501), "limit")
    expect_error(conn, "SR404", offers_as(), ("9d0c6a44-0000-4000-8000-000000000004", 50), "mechanic_id")
    # no identity: refused (fail-closed)
    expect_error(conn, "SR403", "SELECT * FROM get_mechanic_offers(%s)", (w.mech["a1"],), "mechanic_id")


def visible_as(conn, mechanic_id):
    conn.execute("SET ROLE mechanic")
    try:
        conn.execute("SELECT set_config('request.jwt.claims', %s, FALSE)", (claims_for(mechanic_id) if mechanic_id else "",))
        return {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET request.jwt.claims")


def test_rls_ignores_a_setting_the_mechanic_session_chose_itself(conn, world, board):
    w, b = world, board
    conn.execute("SET ROLE mechanic")
    try:
        conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(w.mech["a1"]),))
        assert {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()} == set()
        # claims naming a mechanic but without role = mechanic: nothing either
        conn.execute("SELECT set_config('request.jwt.claims', %s, FALSE)", (claims_for(w.mech["a1"], "customer"),))
        assert {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()} == set()
        conn.execute("SELECT set_config('request.jwt.claims', %s, FALSE)", (claims_for(w.mech["a1"]),))
        assert b["taken"] in {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.mechanic_id")
        conn.execute("RESET request.jwt.claims")


def test_rls_mechanic_sees_only_offers_and_own_requests(conn, world, board):
    w, b = world, board
    assert visible_as(conn, w.mech["a1"]) == {b["wo_alpha"], b["hy_alpha"], b["bc"], b["taken"]}
    assert visible_as(conn, w.mech["a2"]) == {b["wo_alpha"], b["hy_alpha"], b["bc"]}
    assert visible_as(conn, w.mech["b1"]) == {b["wo_beta"], b["bc"]}
    assert visible_as(conn, w.mech["i1"]) == {b["bc"]}
    assert visible_as(conn, w.mech["s1"]) == set()
    assert visible_as(conn, None) == set()
    # RLS and get_mechanic_offers agree
    for name in ("a2", "b1", "i1", "p1"):
        assert visible_as(conn, w.mech[name]) == {rid for rid, _ in offers(conn, w, name)}
    # the owner (and any other role) still sees everything
    assert conn.execute("SELECT count(*) FROM session_requests").fetchone()[0] == 5


def test_rls_follows_the_jwt_claims_and_the_window(conn, world, board):
    w, b = world, board
    conn.execute("SET ROLE mechanic")
    try:
        conn.execute("SELECT set_config('request.jwt.claims', %s, FALSE)", (claims_for(w.mech["b1"]),))
        seen = {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
        assert seen == {b["wo_beta"], b["bc"]}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE session_requests SET status = 'cancelled' WHERE id = %s", (b["bc"],))
    finally:
        conn.execute("RESET ROLE")
    conn.execute("UPDATE session_requests SET exclusive_until = now() - interval '1 second' WHERE id = %s", (b["hy_alpha"],))
    conn.execute("SET ROLE mechanic")
    try:
        seen = {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
        assert seen == {b["wo_beta"], b["bc"], b["hy_alpha"]}
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET request.jwt.claims")


def test_mechanic_role_accepts_through_the_function(conn, world, board):
    w, b = world, board
    conn.execute("SET ROLE mechanic")
    try:
        conn.execute("SELECT set_config('request.jwt.claims', %s, FALSE)", (claims_for(w.mech["i1"]),))
        assert [r for (r,) in conn.execute("SELECT request_id FROM get_mechanic_offers(%s)", (w.mech["i1"],))] == [b["bc"]]
        with pytest.raises(psycopg.Error) as info:
            conn.execute("SELECT * FROM get_mechanic_offers(%s)", (w.mech["a1"],))
        assert info.value.sqlstate == "SR403"
        # a mechanic session cannot make itself the app: app.mechanic_id gains it nothing
        conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(w.mech["a1"]),))
        with pytest.raises(psycopg.Error) as info:
            conn.execute(RAW_ACCEPT, (b["bc"], w.mech["a1"]))
        assert (info.value.sqlstate, info.value.diag.column_name) == ("SR403", "mechanic_id")
        conn.execute(RAW_ACCEPT, (b["bc"], w.mech["i1"]))
        seen = {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
        assert seen == {b["bc"]}
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.mechanic_id")
        conn.execute("RESET request.jwt.claims")
    assert request_row(conn, b["bc"])["mechanic_id"] == w.mech["i1"]


# --- existing data -------------------------------------------------------------------------


def test_demo_data_loads_with_routing_in_place_and_is_routable(seeded_conn):
    c = seeded_conn
    # imported history keeps its workshop columns and writes no routing events
    mismatched = c.execute(
        "SELECT count(*) FROM session_requests AS r JOIN mechanics AS m ON m.id = r.mechanic_id "
        "WHERE r.workshop_id IS DISTINCT FROM m.workshop_id"
    ).fetchone()[0]
    assert mismatched == 0
    assert c.execute("SELECT count(*) FROM routing_events").fetchone()[0] == 0
    autopro, city = "11111111-1111-4111-8111-000000000001", "11111111-1111-4111-8111-000000000002"
    got = c.execute(
        "SELECT mechanic_id::text, priority_score FROM get_mechanics_for_routing(%s, 'hybrid')", (autopro,)
    ).fetchall()
    assert sorted(got) == [
        ("22222222-2222-4222-8222-000000000001", 100),  # Ana, AutoPro
        ("22222222-2222-4222-8222-000000000002", 100),  # Ben, AutoPro
        ("22222222-2222-4222-8222-000000000004", 50),  # Dev, City Auto
        ("22222222-2222-4222-8222-000000000008", 25),  # Hana, independent
        ("22222222-2222-4222-8222-000000000009", 25),  # Ivan, independent
    ]  # Gus (suspended workshop) and the unavailable ones are left out
    r = c.execute(
        "SELECT id FROM ssr_private.create_session_request("
        "'33333333-3333-4333-8333-000000000001', 'video15', NULL, NULL, %s, 'workshop_only')",
        (city,),
    ).fetchone()[0]
    c.execute(ACCEPT, (r, "22222222-2222-4222-8222-000000000004"))
    assert c.execute("SELECT workshop_id::text FROM session_requests WHERE id = %s", (r,)).fetchone()[0] == city


def test_outbox_prune_keeps_recent_rows(conn, world):
    old = new_request(conn, world, "broadcast", None)
    conn.execute("UPDATE routing_outbox SET created_at = now() - interval '8 days' WHERE request_id = %s", (old["id"],))
    recent = new_request(conn, world, "broadcast", None)
    assert conn.execute("SELECT ssr_private.routing_outbox_prune()").fetchone()[0] == 1
    left = {r for (r,) in conn.execute("SELECT request_id FROM routing_outbox").fetchall()}
    assert left == {recent["id"]}
    expect_error(conn, "SR400", "SELECT ssr_private.routing_outbox_prune(interval '-1 day')", column="keep")


def engine_reasons(conn) -> dict[str, set[str]]:
    """The coded reasons the engine writes into routing_events, read from its function bodies:
    window_skipped (v_skip_reason), escalated (the reason the audit trigger falls back to, and
    routing.reason set before escalating), expired (routing.reason set before expiring)."""
    bodies = [src for (src,) in conn.execute(
        "SELECT p.prosrc FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "JOIN pg_language AS l ON l.oid = p.prolang WHERE n.nspname IN ('public', 'ssr_private') "
        "AND l.lanname IN ('sql', 'plpgsql')").fetchall()]
    out: dict[str, set[str]] = {"window_skipped": set(), "escalated": set(), "expired": set()}
    for src in bodies:
        out["window_skipped"] |= set(re.findall(r"v_skip_reason := '(\w+)'", src))
        fallback = re.search(r"'reason',\s*coalesce\((.*?)\),\s*'exclusive_until'", src, flags=re.S)
        if fallback:
            out["escalated"] |= {x for x in re.findall(r"'(\w+)'", fallback.group(1)) if x != "reason"}
        for reason, after in re.findall(r"set_config\('routing\.reason', '(\w+)', TRUE\);(.*?)(?=set_config|$)", src,
                                        flags=re.S):
            out["escalated" if "escalated_at =" in after else "expired"].add(reason)
    return out


def test_explain_routing_tells_every_event_type_and_reason(conn, world):
    """Every event type of routing_events (its CHECK constraint) and every reason the engine
    writes (its function bodies) gets its own sentence from explain_routing and the staff view,
    never the bare event type or the raw reason code."""
    check = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'routing_events_event_type_check'"
    ).fetchone()[0]
    types = re.findall(r"'(\w+)'::text", check)
    assert {"created", "offered", "accepted", "expired"} <= set(types)
    reasons = engine_reasons(conn)
    assert "preferred_workshop_at_capacity" in reasons["window_skipped"]
    assert {"preferred_workshop_declined", "preferred_workshop_unavailable", "window_passed"} <= reasons["escalated"]
    assert "all_declined" in reasons["expired"]
    cases = []
    for t in types:
        for reason in sorted(reasons.get(t, set())) + ([None] if t not in ("window_skipped", "escalated") else []):
            cases.append((t, reason))
    with conn.transaction(force_rollback=True):
        r = new_request(conn, world, "hybrid", "alpha")
        start = len(conn.execute("SELECT 1 FROM routing_events WHERE request_id = %s", (r["id"],)).fetchall())
        for t, reason in cases:
            detail = {"routing_type": "hybrid", "candidate_count": 3, "audience": "workshop", "outcome": "expired_no_mechanic"}
            if reason:
                detail["reason"] = reason
            conn.execute(
                "INSERT INTO routing_events (request_id, event_type, mechanic_id, workshop_id, detail) "
                "VALUES (%s, %s, %s, %s, %s)",
                (r["id"], t, world.mech["a1"] if t in ("declined", "accepted") else None, world.ws["alpha"],
                 json.dumps(detail)),
            )
        rows = conn.execute("SELECT event_type, narrative FROM ssr_private.explain_routing(%s) ORDER BY step",
                            (r["id"],)).fetchall()[start:]
        assert [t for t, _ in rows] == [t for t, _ in cases]
        for (t, reason), (_, narrative) in zip(cases, rows, strict=True):
            assert narrative not in (t, t + "."), (t, reason, narrative)
            assert not reason or reason not in narrative, (t, reason, narrative)
            assert narrative[0].isupper() and narrative.endswith("."), (t, reason, narrative)
        by_type: dict[str, set[str]] = {}
        for (t, _reason), (_, narrative) in zip(cases, rows, strict=True):
            by_type.setdefault(t, set()).add(narrative)
        for t in types:
            assert len(by_type[t]) == sum(1 for c in cases if c[0] == t), f"two reasons of {t} read the same"
        story = conn.execute("SELECT narrative FROM analytics.routing_explanations WHERE session_request_id = %s",
                             (r["id"],)).fetchone()[0]
        assert story.split("\n")[start:] == [n for _, n in rows]
