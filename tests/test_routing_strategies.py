"""Strategies: get_mechanics_for_routing, validate_routing_choice, create_session_request."""

from __future__ import annotations

import pytest

from tests.test_routing_world import build_world, counts, event_types, events, expect_error, new_request, new_session


@pytest.fixture
def world(conn):
    return build_world(conn)


def routed(conn, w, workshop, routing_type):
    rows = conn.execute(
        "SELECT mechanic_id, priority_score, workshop_id, is_preferred FROM get_mechanics_for_routing(%s, %s)",
        (w.ws[workshop] if workshop else None, routing_type),
    ).fetchall()
    return {w.name_of(m): (score, ws, pref) for m, score, ws, pref in rows}


def test_workshop_only_returns_only_that_workshops_available_mechanics(conn, world):
    w = world
    assert routed(conn, w, "alpha", "workshop_only") == {
        "a1": (100, w.ws["alpha"], True),
        "a2": (100, w.ws["alpha"], True),
    }
    assert routed(conn, w, "beta", "workshop_only") == {"b1": (100, w.ws["beta"], True)}
    assert routed(conn, w, "empty", "workshop_only") == {}


def test_hybrid_scores_preferred_100_other_workshops_50_independents_25(conn, world):
    w = world
    assert routed(conn, w, "alpha", "hybrid") == {
        "a1": (100, w.ws["alpha"], True),
        "a2": (100, w.ws["alpha"], True),
        "b1": (50, w.ws["beta"], False),
        "i1": (25, None, False),
        "i2": (25, None, False),
    }
    # best first
    scores = [r[0] for r in conn.execute(
        "SELECT priority_score FROM get_mechanics_for_routing(%s, 'hybrid')", (w.ws["beta"],)
    ).fetchall()]
    assert scores == sorted(scores, reverse=True) and scores[0] == 100


def test_broadcast_scores_everyone_equally_and_excludes_ineligible(conn, world):
    w = world
    expected = {n: 50 for n in ("a1", "a2", "b1", "i1", "i2")}
    got = routed(conn, w, None, "broadcast")
    assert {k: v[0] for k, v in got.items()} == expected
    assert not any(v[2] for v in got.values())
    got_pref = routed(conn, w, "beta", "broadcast")
    assert {k: v[0] for k, v in got_pref.items()} == expected
    assert {k for k, v in got_pref.items() if v[2]} == {"b1"}
    # NULL routing type means broadcast
    assert routed(conn, w, None, None) == got


def test_suspended_and_pending_workshops_mechanics_are_never_routed(conn, world):
    w = world
    for wkey, rtype in [(None, "broadcast"), ("alpha", "hybrid"), ("beta", "hybrid")]:
        names = set(routed(conn, w, wkey, rtype))
        assert not names & {"s1", "p1", "a3", "a4", "b2", "e1", "i3", "i4"}


def test_availability_change_is_seen_immediately(conn, world):
    w = world
    conn.execute("UPDATE mechanics SET is_available = TRUE WHERE id = %s", (w.mech["a3"],))
    conn.execute("UPDATE organizations SET status = 'suspended' WHERE id = %s", (w.ws["beta"],))
    assert set(routed(conn, w, None, "broadcast")) == {"a1", "a2", "a3", "i1", "i2"}


@pytest.mark.parametrize(
    ("workshop", "routing_type", "sqlstate", "column"),
    [
        (None, "workshop_only", "SR400", "workshop_id"),
        (None, "hybrid", "SR400", "workshop_id"),
        ("alpha", "nearest", "SR400", "routing_type"),
        ("shady", "hybrid", "SR404", "workshop_id"),
        ("fresh", "workshop_only", "SR404", "workshop_id"),
        ("shady", "broadcast", "SR404", "workshop_id"),
        ("unknown", "hybrid", "SR404", "workshop_id"),
    ],
)
def test_bad_routing_choices_are_rejected(conn, world, workshop, routing_type, sqlstate, column):
    w = world
    wid = "9d0c6a44-0000-4000-8000-000000000000" if workshop == "unknown" else (w.ws[workshop] if workshop else None)
    err = expect_error(conn, sqlstate, "SELECT ssr_private.validate_routing_choice(%s, %s)", (wid, routing_type), column)
    assert column in str(err)
    expect_error(conn, sqlstate, "SELECT * FROM get_mechanics_for_routing(%s, %s)", (wid, routing_type), column)
    sid = new_session(conn, w)
    expect_error(
        conn,
        sqlstate,
        "SELECT * FROM ssr_private.create_session_request(%s, %s, %s, NULL, %s, %s)",
        (w.customer, w.plan, sid, wid, routing_type),
        column,
    )


def test_validate_routing_choice_normalises(conn, world):
    w = world
    assert conn.execute("SELECT ssr_private.validate_routing_choice(NULL, NULL)").fetchone()[0] == "broadcast"
    assert conn.execute("SELECT ssr_private.validate_routing_choice(NULL, '')").fetchone()[0] == "broadcast"
    assert conn.execute("SELECT ssr_private.validate_routing_choice(%s, ' Hybrid ')", (w.ws["alpha"],)).fetchone()[0] == "hybrid"


def test_create_records_preference_window_expiry_and_events(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "alpha")
    assert r["routing_type"] == "hybrid" and r["preferred_workshop_id"] == w.ws["alpha"]
    assert r["status"] == "pending" and r["workshop_id"] is None and r["mechanic_id"] is None
    window, wait = conn.execute(
        "SELECT exclusive_until - created_at, expires_at - created_at FROM session_requests WHERE id = %s", (r["id"],)
    ).fetchone()
    assert window.total_seconds() == 60 and wait.total_seconds() == 1800
    sess = conn.execute("SELECT preferred_workshop_id, workshop_id FROM sessions WHERE id = %s", (r["session_id"],)).fetchone()
    assert sess == (w.ws["alpha"], None)
    evs = events(conn, r["id"])
    assert [t for t, _ in evs] == ["created", "offered"]
    assert evs[0][1]["candidate_count"] == 5 and evs[0][1]["preferred_candidate_count"] == 2
    assert evs[1][1]["audience"] == "workshop" and evs[1][1]["candidate_count"] == 2


def test_settings_are_copied_per_request(conn, world):
    w = world
    conn.execute("UPDATE routing_settings SET hybrid_window_seconds = 120, workshop_only_wait_seconds = 30")
    h = new_request(conn, w, "hybrid", "alpha")
    wo = new_request(conn, w, "workshop_only", "beta")
    conn.execute("UPDATE routing_settings SET hybrid_window_seconds = 5")
    got = conn.execute(
        "SELECT exclusive_until - created_at FROM session_requests WHERE id = %s", (h["id"],)
    ).fetchone()[0]
    assert got.total_seconds() == 120
    got = conn.execute("SELECT expires_at - created_at FROM session_requests WHERE id = %s", (wo["id"],)).fetchone()[0]
    assert got.total_seconds() == 30


def test_hybrid_window_is_skipped_when_preferred_workshop_has_nobody_available(conn, world):
    w = world
    r = new_request(conn, w, "hybrid", "empty")
    assert r["exclusive_until"] is None
    evs = events(conn, r["id"])
    assert [t for t, _ in evs] == ["created", "window_skipped", "offered"]
    assert evs[1][1]["reason"] == "no_available_mechanic_in_preferred_workshop"
    assert evs[2][1]["audience"] == "everyone"


def test_window_zero_disables_the_window(conn, world):
    conn.execute("UPDATE routing_settings SET hybrid_window_seconds = 0")
    r = new_request(conn, world, "hybrid", "alpha")
    assert r["exclusive_until"] is None
    assert event_types(conn, r["id"]) == ["created", "window_skipped", "offered"]


def test_broadcast_and_workshop_only_get_expiry_and_no_window(conn, world):
    w = world
    b = new_request(conn, w, None, None)
    assert b["routing_type"] == "broadcast" and b["exclusive_until"] is None and b["preferred_workshop_id"] is None
    wo = new_request(conn, w, "workshop_only", "alpha")
    got = conn.execute("SELECT expires_at - created_at FROM session_requests WHERE id = %s", (wo["id"],)).fetchone()[0]
    assert got.total_seconds() == 600 and wo["exclusive_until"] is None
    conn.execute("UPDATE routing_settings SET open_wait_seconds = NULL")
    assert new_request(conn, w, "broadcast", None)["expires_at"] is None


def test_create_rejects_bad_inputs_and_writes_nothing(conn, world):
    w = world
    sid = new_session(conn, w)
    other_sid = new_session(conn, w, customer=w.other_customer)
    intake_other = conn.execute(
        "INSERT INTO intakes (customer_id, description) VALUES (%s, 'noise') RETURNING id", (w.other_customer,)
    ).fetchone()[0]
    conn.execute("INSERT INTO plans (code, name, price_minor, currency, duration_minutes, is_active) "
                 "VALUES ('rt_old', 'Old', 100, 'usd', 10, FALSE)")
    unknown = "9d0c6a44-0000-4000-8000-000000000001"
    sql = "SELECT * FROM ssr_private.create_session_request(%s, %s, %s, %s, %s, %s)"
    cases = [
        ((None, w.plan, sid, None, None, "broadcast"), "SR400", "customer_id"),
        ((unknown, w.plan, sid, None, None, "broadcast"), "SR404", "customer_id"),
        ((w.customer, None, sid, None, None, "broadcast"), "SR400", "plan_code"),
        ((w.customer, "nope", sid, None, None, "broadcast"), "SR404", "plan_code"),
        ((w.customer, "rt_old", sid, None, None, "broadcast"), "SR404", "plan_code"),
        ((w.customer, w.plan, unknown, None, None, "broadcast"), "SR404", "session_id"),
        ((w.customer, w.plan, other_sid, None, None, "broadcast"), "SR400", "session_id"),
        ((w.customer, w.plan, sid, unknown, None, "broadcast"), "SR404", "intake_id"),
        ((w.customer, w.plan, sid, intake_other, None, "broadcast"), "SR400", "intake_id"),
        ((w.customer, w.plan, sid, None, w.ws["alpha"], "everywhere"), "SR400", "routing_type"),
    ]
    for params, state, column in cases:
        expect_error(conn, state, sql, params, column)
    # malformed uuid: Postgres' own 22P02
    expect_error(conn, "22P02", sql, (w.customer, w.plan, "not-a-uuid", None, None, "broadcast"))


def test_create_is_idempotent_per_session_and_conflicts_on_a_different_choice(conn, world):
    w = world
    sid = new_session(conn, w)
    sql = "SELECT id FROM ssr_private.create_session_request(%s, %s, %s, NULL, %s, %s)"
    first = conn.execute(sql, (w.customer, w.plan, sid, w.ws["alpha"], "hybrid")).fetchone()[0]
    before = counts(conn)
    again = conn.execute(sql, (w.customer, w.plan, sid, w.ws["alpha"], "hybrid")).fetchone()[0]
    assert again == first and counts(conn) == before
    expect_error(conn, "SR409", sql, (w.customer, w.plan, sid, w.ws["alpha"], "broadcast"), "session_id")
