"""A small crafted marketplace for the routing tests (helpers, no tests here).

Workshops and mechanics (available unless noted):
  alpha (active):   a1, a2, a3 (unavailable), a4 (suspended)
  beta (active):    b1, b2 (unavailable)
  empty (active):   e1 (unavailable)  -> nobody available
  shady (suspended): s1
  fresh (pending):  p1
  independents:     i1, i2, i3 (unavailable), i4 (suspended)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest

WORKSHOPS = {
    "alpha": "active",
    "beta": "active",
    "empty": "active",
    "shady": "suspended",
    "fresh": "pending",
}

# name -> (workshop key or None, available, status)
MECHANICS = {
    "a1": ("alpha", True, "active"),
    "a2": ("alpha", True, "active"),
    "a3": ("alpha", False, "active"),
    "a4": ("alpha", True, "suspended"),
    "b1": ("beta", True, "active"),
    "b2": ("beta", False, "active"),
    "e1": ("empty", False, "active"),
    "s1": ("shady", True, "active"),
    "p1": ("fresh", True, "active"),
    "i1": (None, True, "active"),
    "i2": (None, True, "active"),
    "i3": (None, False, "active"),
    "i4": (None, True, "suspended"),
}

TABLES = ("session_requests", "routing_events", "routing_outbox", "sessions")


@dataclass
class World:
    ws: dict[str, uuid.UUID] = field(default_factory=dict)
    mech: dict[str, uuid.UUID] = field(default_factory=dict)
    customer: uuid.UUID | None = None
    other_customer: uuid.UUID | None = None
    plan: str = "rt_video15"

    def name_of(self, mechanic_id: uuid.UUID) -> str:
        return next(k for k, v in self.mech.items() if v == mechanic_id)


def build_world(conn: psycopg.Connection) -> World:
    w = World()
    for key, status in WORKSHOPS.items():
        w.ws[key] = conn.execute(
            "INSERT INTO organizations (name, contact_email, status) VALUES (%s, %s, %s) RETURNING id",
            (f"Workshop {key}", f"{key}@ws.example", status),
        ).fetchone()[0]
    for name, (wkey, available, status) in MECHANICS.items():
        w.mech[name] = add_mechanic(conn, name, w.ws[wkey] if wkey else None, available, status)
    w.customer = conn.execute("INSERT INTO customers (email) VALUES ('cust@rt.example') RETURNING id").fetchone()[0]
    w.other_customer = conn.execute("INSERT INTO customers (email) VALUES ('other@rt.example') RETURNING id").fetchone()[0]
    conn.execute(
        "INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES (%s, 'RT video', 2900, 'usd', 15)",
        (w.plan,),
    )
    return w


def add_mechanic(conn, name, workshop_id, available=True, status="active") -> uuid.UUID:
    return conn.execute(
        "INSERT INTO mechanics (workshop_id, name, email, is_available, status) VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (workshop_id, f"Mechanic {name}", f"{name}-{uuid.uuid4().hex[:8]}@m.example", available, status),
    ).fetchone()[0]


def new_session(conn, w: World, customer=None) -> uuid.UUID:
    return conn.execute(
        "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency) VALUES (%s, %s, 2900, 'usd') RETURNING id",
        (customer or w.customer, w.plan),
    ).fetchone()[0]


def new_request(conn, w: World, routing_type: str | None, workshop: str | None = None) -> dict:
    """Creates a session and its request through create_session_request; returns the request row as a dict."""
    sid = new_session(conn, w)
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "SELECT * FROM ssr_private.create_session_request(%s, %s, %s, NULL, %s, %s)",
        (w.customer, w.plan, sid, w.ws[workshop] if workshop else None, routing_type),
    ).fetchone()


def request_row(conn, request_id) -> dict:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute("SELECT * FROM session_requests WHERE id = %s", (request_id,)).fetchone()


def session_row(conn, session_id) -> dict:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute("SELECT * FROM sessions WHERE id = %s", (session_id,)).fetchone()


def events(conn, request_id) -> list[tuple[str, dict]]:
    return [
        (t, d)
        for t, d in conn.execute(
            "SELECT event_type, detail FROM routing_events WHERE request_id = %s ORDER BY id", (request_id,)
        ).fetchall()
    ]


def event_types(conn, request_id) -> list[str]:
    return [t for t, _ in events(conn, request_id)]


def counts(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def expect_error(conn, sqlstate: str, sql: str, params=(), column: str | None = None) -> psycopg.Error:
    """Runs sql, asserts it fails with sqlstate (and COLUMN), and that nothing was written."""
    before = counts(conn)
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    err = info.value
    assert err.sqlstate == sqlstate, f"expected {sqlstate}, got {err.sqlstate}: {err}"
    if column is not None:
        assert err.diag.column_name == column, err.diag.column_name
    assert counts(conn) == before
    return err


def payloads(notifies) -> list[dict]:
    return [json.loads(n.payload) for n in notifies]
