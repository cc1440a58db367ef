"""Property tests: the routing rule against a Python model, and its three encodings agreeing.

Each example builds a random marketplace inside a transaction that is rolled back, so the
examples share one database and leave nothing behind.
"""

from __future__ import annotations

import json
import uuid

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WS_STATUS = st.sampled_from(["active", "active", "pending", "suspended"])
MECH = st.tuples(
    st.one_of(st.none(), st.integers(min_value=0, max_value=3)),  # workshop index or independent
    st.booleans(),  # available
    st.sampled_from(["active", "active", "active", "suspended"]),
)
WORLD = st.tuples(st.lists(WS_STATUS, min_size=1, max_size=4), st.lists(MECH, min_size=0, max_size=10))
CHOICE = st.tuples(st.one_of(st.none(), st.integers(min_value=0, max_value=3)), st.sampled_from(["workshop_only", "hybrid", "broadcast"]))

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def build(conn, world):
    ws_status, mechs = world
    ws = []
    for i, status in enumerate(ws_status):
        ws.append(conn.execute(
            "INSERT INTO organizations (name, contact_email, status) VALUES (%s, %s, %s) RETURNING id",
            (f"P{i}", f"p{i}@p.example", status),
        ).fetchone()[0])
    mech = []
    for j, (wi, available, status) in enumerate(mechs):
        wid = ws[wi % len(ws)] if wi is not None else None
        mid = conn.execute(
            "INSERT INTO mechanics (workshop_id, name, email, is_available, status) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (wid, f"M{j}", f"m{j}-{uuid.uuid4().hex[:6]}@p.example", available, status),
        ).fetchone()[0]
        eligible = status == "active" and available and (wid is None or ws_status[ws.index(wid)] == "active")
        mech.append((mid, wid, eligible))
    return ws, ws_status, mech


def model(ws, ws_status, mech, wsel, rtype):
    """Expected result of get_mechanics_for_routing, or the SQLSTATE it raises."""
    wid = ws[wsel % len(ws)] if wsel is not None else None
    if wid is None and rtype != "broadcast":
        return wid, "SR400"
    if wid is not None and ws_status[ws.index(wid)] != "active":
        return wid, "SR404"
    out = {}
    for mid, mws, eligible in mech:
        if not eligible:
            continue
        if rtype == "broadcast":
            out[mid] = 50
        elif rtype == "workshop_only":
            if mws == wid:
                out[mid] = 100
        else:
            out[mid] = 100 if mws == wid else (50 if mws is not None else 25)
    return wid, out


@SETTINGS
@given(world=WORLD, choice=CHOICE)
def test_get_mechanics_for_routing_matches_the_model(conn, world, choice):
    with conn.transaction(force_rollback=True):
        ws, ws_status, mech = build(conn, world)
        wid, expected = model(ws, ws_status, mech, *choice)
        try:
            with conn.transaction():
                rows = conn.execute(
                    "SELECT mechanic_id, priority_score FROM get_mechanics_for_routing(%s, %s)", (wid, choice[1])
                ).fetchall()
            got = dict(rows)
            assert len(rows) == len(got)
        except psycopg.Error as exc:
            got = exc.sqlstate
        assert got == expected
        if isinstance(got, dict):
            scores = [s for _, s in rows]
            assert scores == sorted(scores, reverse=True)


REQUESTS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.sampled_from(["workshop_only", "hybrid", "broadcast"]), st.booleans()),
    min_size=1,
    max_size=4,
)


BUSY = st.lists(st.integers(min_value=0, max_value=9), max_size=3)  # mechanics at capacity
DECLINES = st.lists(st.tuples(st.integers(min_value=0, max_value=9), st.integers(min_value=0, max_value=3)), max_size=4)


@SETTINGS
@given(world=WORLD, requests=REQUESTS, busy=BUSY, declines=DECLINES)
def test_offers_rls_and_accept_agree(conn, world, requests, busy, declines):
    """For every mechanic: get_mechanic_offers == what RLS shows them == where accept would succeed,
    with some mechanics at capacity and some requests declined."""
    with conn.transaction(force_rollback=True):
        ws, ws_status, mech = build(conn, world)
        customer = conn.execute("INSERT INTO customers (email) VALUES ('prop@p.example') RETURNING id").fetchone()[0]
        conn.execute(
            "INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES ('prop', 'P', 100, 'usd', 10)"
        )
        active = [w for w, s in zip(ws, ws_status, strict=True) if s == "active"]
        rids = []
        for wi, rtype, window_over in requests:
            wid = active[wi % len(active)] if active and rtype != "broadcast" else None
            if wid is None and rtype != "broadcast":
                continue
            rid = conn.execute(
                "SELECT id FROM ssr_private.create_session_request(%s, 'prop', NULL, NULL, %s, %s)", (customer, wid, rtype)
            ).fetchone()[0]
            if window_over:
                conn.execute("UPDATE session_requests SET exclusive_until = NULL WHERE id = %s AND routing_type = 'hybrid'", (rid,))
            rids.append(rid)
        for i in busy:
            if mech:
                conn.execute("UPDATE mechanics SET open_sessions = capacity WHERE id = %s", (mech[i % len(mech)][0],))
        for i, j in declines:
            if mech and rids:
                conn.execute(
                    "INSERT INTO session_request_declines (request_id, mechanic_id, offered_at) VALUES (%s, %s, now()) "
                    "ON CONFLICT DO NOTHING",
                    (rids[j % len(rids)], mech[i % len(mech)][0]),
                )
        for mid, _mws, _eligible in mech:
            # the app's way (owner connection, app.mechanic_id) for offers and accept ...
            conn.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", (str(mid),))
            offered = {r for (r,) in conn.execute("SELECT request_id FROM get_mechanic_offers(%s, 500)", (mid,)).fetchall()}
            # ... PostgREST's (role mechanic, request.jwt.claims) for row-level security
            conn.execute("SET LOCAL ROLE mechanic")
            conn.execute("SELECT set_config('request.jwt.claims', %s, TRUE)",
                         (json.dumps({"sub": str(mid), "role": "mechanic"}),))
            visible = {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
            conn.execute("RESET ROLE")
            conn.execute("SELECT set_config('request.jwt.claims', '', TRUE)")
            assert offered == visible
            for rid in rids:
                try:
                    with conn.transaction(force_rollback=True):
                        conn.execute("SELECT id FROM accept_session_request(%s, %s)", (rid, mid))
                    accepted = True
                except psycopg.Error as exc:
                    assert exc.sqlstate in ("SR403", "SR409"), exc
                    accepted = False
                assert accepted == (rid in offered), (rid, mid)
