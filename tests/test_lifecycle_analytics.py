"""Analytics of declines, utilisation and sessions per status, against hand-computed values.

Workshop W, mechanics m1 and m2 (all times UTC, Monday 2026-03-02):
  presence   m1 10:00-12:00 (120 min); m2 23:00 - 03-03 01:00 (60 min each day)
  sessions   S1 completed, live 10:30-11:00 (30 min) by m1; S2 no-show by m2; both served by W
  request    R1 broadcast, created 10:00, declined by m1 after 30 s and by m2 after 90 s
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import psycopg

W = uuid.UUID("00000000-0000-4000-b000-0000000000a1")
M1 = uuid.UUID("00000000-0000-4000-b000-000000000001")
M2 = uuid.UUID("00000000-0000-4000-b000-000000000002")
CUSTOMER = uuid.UUID("00000000-0000-4000-b000-0000000000c1")


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-03-{s}").replace(tzinfo=dt.UTC)


def load(conn) -> None:
    conn.execute("INSERT INTO organizations (id, name, contact_email, status) VALUES (%s, 'W', 'w@example.com', 'active')", (W,))
    for m in (M1, M2):
        conn.execute("INSERT INTO mechanics (id, workshop_id, name, email) VALUES (%s, %s, 'M', %s)", (m, W, f"{m}@example.com"))
    conn.execute("INSERT INTO customers (id, email) VALUES (%s, 'c@example.com')", (CUSTOMER,))
    conn.execute("INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES ('pp', 'P', 1000, 'usd', 30)")
    for m, a, b in ((M1, "02 10:00", "02 12:00"), (M2, "02 23:00", "03 01:00")):
        conn.execute(
            "INSERT INTO mechanic_availability (mechanic_id, workshop_id, started_at, ended_at) VALUES (%s, %s, %s, %s)",
            (m, W, t(a), t(b)),
        )
    for m, status, start, end in ((M1, "completed", "02 10:30", "02 11:00"), (M2, "no_show", None, "02 10:40")):
        conn.execute(
            "INSERT INTO sessions (customer_id, mechanic_id, plan_code, amount_total_minor, currency, status, created_at, "
            "started_at, ended_at, workshop_id) VALUES (%s, %s, 'pp', 1000, 'usd', %s, %s, %s, %s, %s)",
            (CUSTOMER, m, status, t("02 10:00"), t(start) if start else None, t(end), W),
        )
    rid = conn.execute(
        "INSERT INTO session_requests (customer_id, plan_code, created_at, routing_type) VALUES (%s, 'pp', %s, 'broadcast') "
        "RETURNING id",
        (CUSTOMER, t("02 10:00")),
    ).fetchone()[0]
    for m, secs in ((M1, 30), (M2, 90)):
        conn.execute(
            "INSERT INTO session_request_declines (request_id, mechanic_id, workshop_id, offered_at, declined_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (rid, m, W, t("02 10:00"), t("02 10:00") + dt.timedelta(seconds=secs)),
        )


def row(conn, relation, where, params):
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(f"SELECT * FROM {relation} WHERE {where}", params).fetchone()  # constants of this file


def test_declines_utilisation_and_sessions_per_status(conn):
    load(conn)
    conn.execute("SELECT * FROM ssr_private.refresh_analytics()")  # the worker's job: the rollup rows
    day = row(conn, "analytics.workshop_session_analytics", "period_grain = 'day' AND period_start = %s", (dt.date(2026, 3, 2),))
    assert (day["sessions_served"], day["sessions_completed"], day["sessions_no_show"], day["sessions_waiting"]) == (2, 1, 1, 0)
    assert (day["declines"], day["median_decline_seconds"]) == (2, 60.0)
    assert (day["live_minutes"], day["available_minutes"], day["utilisation"]) == (Decimal("30.00"), Decimal("180.00"),
                                                                                   Decimal("0.1667"))
    # a presence-only day has no session or request activity: no row of the rollup
    assert row(conn, "analytics.workshop_session_analytics", "period_grain = 'day' AND period_start = %s",
               (dt.date(2026, 3, 3),)) is None
    week = row(conn, "analytics.workshop_session_analytics", "period_grain = 'week' AND period_start = %s", (dt.date(2026, 3, 2),))
    assert (week["live_minutes"], week["available_minutes"], week["utilisation"]) == (Decimal("30.00"), Decimal("240.00"),
                                                                                      Decimal("0.1250"))
    re = row(conn, "analytics.routing_effectiveness", "routing_type = 'broadcast' AND day = %s", (dt.date(2026, 3, 2),))
    assert (re["requests"], re["declines"], re["declined_requests"], re["median_decline_seconds"]) == (1, 2, 1, 60.0)


def test_availability_log_follows_presence(conn):
    conn.execute("INSERT INTO organizations (id, name, contact_email, status) VALUES (%s, 'W', 'w@example.com', 'active')", (W,))
    conn.execute("INSERT INTO mechanics (id, workshop_id, name, email, is_available) VALUES (%s, %s, 'M', 'm@e.com', TRUE)",
                 (M1, W))

    def intervals():
        return conn.execute(
            "SELECT workshop_id, ended_at IS NULL FROM mechanic_availability WHERE mechanic_id = %s ORDER BY id", (M1,)
        ).fetchall()

    assert intervals() == [(W, True)]
    conn.execute("UPDATE mechanics SET rating = 4.5 WHERE id = %s", (M1,))  # not a presence change
    assert intervals() == [(W, True)]
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE id = %s", (M1,))
    assert intervals() == [(W, False)]
    conn.execute("UPDATE mechanics SET is_available = TRUE WHERE id = %s", (M1,))
    conn.execute("UPDATE mechanics SET workshop_id = NULL WHERE id = %s", (M1,))  # a move: close, reopen
    assert intervals() == [(W, False), (W, False), (None, True)]
    conn.execute("UPDATE mechanics SET status = 'suspended' WHERE id = %s", (M1,))
    assert intervals()[-1] == (None, False)
    # repair after a bulk change with triggers off
    conn.execute("SET session_replication_role = replica")
    conn.execute("UPDATE mechanics SET status = 'active' WHERE id = %s", (M1,))
    conn.execute("SET session_replication_role = origin")
    assert conn.execute("SELECT ssr_private.mechanic_state_rebuild()").fetchone()[0] == 1
    assert intervals()[-1] == (None, True)
