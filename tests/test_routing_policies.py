"""Routing policies as data: the registry of parameters, a policy's overrides checked against it
and never changed once created, the default policy, the policy a new request gets; and a
mechanic's online/offline switch (set_mechanic_presence)."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.test_routing_world import build_world, expect_error

PRESENCE_AS = (
    "SELECT p.* FROM (VALUES (%s::uuid, %s::boolean)) AS v (m, online) "
    "CROSS JOIN LATERAL (SELECT set_config('app.mechanic_id', coalesce(v.m::text, ''), TRUE)) AS s (x) "
    "CROSS JOIN LATERAL set_mechanic_presence(nullif(s.x, '')::uuid, v.online) AS p"
)


def params(conn, policy_id) -> dict:
    return conn.execute("SELECT ssr_private.routing_policy_params(%s)", (policy_id,)).fetchone()[0]


def test_the_default_policy_gives_the_registry_defaults(conn):
    rows = conn.execute("SELECT name, params, is_default FROM routing_policies").fetchall()
    assert rows == [("default", {}, True)]
    defaults = dict(conn.execute("SELECT name, default_value FROM routing_parameters").fetchall())
    assert {"hybrid_window_seconds", "workshop_only_wait_seconds", "open_wait_seconds"} <= set(defaults)
    got = params(conn, conn.execute("SELECT id FROM routing_policies WHERE is_default").fetchone()[0])
    assert got == defaults
    # the seed's constants, which routing_settings also holds
    settings = conn.execute(
        "SELECT hybrid_window_seconds, workshop_only_wait_seconds, open_wait_seconds FROM routing_settings"
    ).fetchone()
    assert (got["hybrid_window_seconds"], got["workshop_only_wait_seconds"], got["open_wait_seconds"]) == settings
    assert params(conn, None) == defaults


def test_a_policy_overrides_only_what_it_sets(conn):
    pid = conn.execute(
        "INSERT INTO routing_policies (name, params) VALUES ('short_window', %s) RETURNING id",
        (json.dumps({"hybrid_window_seconds": 30, "open_wait_seconds": None}),),
    ).fetchone()[0]
    got = params(conn, pid)
    assert got["hybrid_window_seconds"] == 30 and got["open_wait_seconds"] is None
    assert got["workshop_only_wait_seconds"] == params(conn, None)["workshop_only_wait_seconds"]
    with pytest.raises(psycopg.Error) as info:
        params(conn, pid + 1000)
    assert info.value.sqlstate == "SR404"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"no_such_knob": 1}, "unknown routing parameter 'no_such_knob'"),
        ({"hybrid_window_seconds": 1.5}, "must be integer"),
        ({"hybrid_window_seconds": "60"}, "must be integer"),
        ({"hybrid_window_seconds": -1}, "between 0 and 86400"),
        ({"workshop_only_wait_seconds": None}, "must be integer"),
        ({"escalate_on_preferred_declines": 1}, "must be boolean"),
    ],
)
def test_a_bad_policy_is_a_clear_error_that_writes_nothing(conn, bad, message):
    before = conn.execute("SELECT count(*) FROM routing_policies").fetchone()[0]
    with pytest.raises(psycopg.Error) as info:
        conn.execute("INSERT INTO routing_policies (name, params) VALUES ('bad', %s)", (json.dumps(bad),))
    assert info.value.sqlstate == "SR400" and message in str(info.value)
    assert conn.execute("SELECT count(*) FROM routing_policies").fetchone()[0] == before


def test_a_policy_never_changes_once_created_and_one_is_the_default(conn):
    conn.execute("INSERT INTO routing_policies (name, params) VALUES ('p', '{\"hybrid_window_seconds\": 10}')")
    with pytest.raises(psycopg.Error) as info:
        conn.execute("UPDATE routing_policies SET params = '{}' WHERE name = 'p'")
    assert info.value.sqlstate == "SR409"
    conn.execute("UPDATE routing_policies SET description = 'ten seconds' WHERE name = 'p'")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("UPDATE routing_policies SET is_default = TRUE WHERE name = 'p'")


def test_a_new_request_gets_its_workshops_policy_or_the_default(conn):
    w = build_world(conn)
    default = conn.execute("SELECT id FROM routing_policies WHERE is_default").fetchone()[0]
    own = conn.execute("INSERT INTO routing_policies (name) VALUES ('alpha_own') RETURNING id").fetchone()[0]
    conn.execute("UPDATE organizations SET routing_policy_id = %s WHERE id = %s", (own, w.ws["alpha"]))
    pick = "SELECT ssr_private.routing_policy_for_request(%s, %s, %s)"
    assert conn.execute(pick, (w.customer, w.ws["alpha"], "hybrid")).fetchone()[0] == own
    assert conn.execute(pick, (w.customer, w.ws["beta"], "hybrid")).fetchone()[0] == default
    assert conn.execute(pick, (w.customer, None, "broadcast")).fetchone()[0] == default


def test_a_mechanic_goes_offline_and_online(conn):
    w = build_world(conn)
    m = w.mech["a1"]
    row = conn.execute(PRESENCE_AS, (m, False)).fetchone()
    assert row[:2] == (m, False) and row[2] is not None
    assert conn.execute("SELECT is_available FROM mechanics WHERE id = %s", (m,)).fetchone()[0] is False
    again = conn.execute(PRESENCE_AS, (m, False)).fetchone()
    assert again == (m, False, None)
    assert conn.execute(PRESENCE_AS, (m, True)).fetchone()[1] is True
    assert conn.execute("SELECT is_available FROM mechanics WHERE id = %s", (m,)).fetchone()[0] is True


def test_presence_is_refused_clearly(conn):
    w = build_world(conn)
    raw = "SELECT * FROM set_mechanic_presence(%s, %s)"
    expect_error(conn, "SR403", raw, (w.mech["a1"], False), "mechanic_id")
    expect_error(conn, "SR400", PRESENCE_AS, (w.mech["a1"], None), "online")
    expect_error(conn, "SR409", PRESENCE_AS, (w.mech["a4"], True), "mechanic_id")
    # acting for one mechanic cannot switch another
    other = (
        "SELECT p.* FROM (VALUES (%s::text, %s::uuid)) AS v (me, target) "
        "CROSS JOIN LATERAL (SELECT set_config('app.mechanic_id', v.me, TRUE)) AS s (x) "
        "CROSS JOIN LATERAL set_mechanic_presence(CASE WHEN s.x IS NOT NULL THEN v.target END, FALSE) AS p"
    )
    expect_error(conn, "SR403", other, (str(w.mech["a2"]), w.mech["a1"]), "mechanic_id")
    assert conn.execute(other, (str(w.mech["a1"]), w.mech["a1"])).fetchone()[1] is False
