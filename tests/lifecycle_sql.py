"""SQL of the calls that act for a mechanic or a customer, with that identity set for the one
statement as the app does (tests connect as a superuser, a member of ssr_app; see
tests/dbutil.py ACCEPT_AS). Helpers for the capacity, decline and session-lifecycle tests."""

from __future__ import annotations

import json

from tests.dbutil import ACCEPT_AS, offers_as

__all__ = ["ACCEPT_AS", "DECLINE_AS", "MOVE_AS", "REVIEW_AS", "offered", "visible_as"]

_MECH = "CROSS JOIN LATERAL (SELECT set_config('app.mechanic_id', coalesce(v.m::text, ''), TRUE)) AS s (x) "

# decline_session_request(request, mechanic, reason): params (request_id, mechanic_id, reason)
DECLINE_AS = (
    "SELECT d.* FROM (VALUES (%s::uuid, %s::uuid, %s::text)) AS v (r, m, why) " + _MECH
    + "CROSS JOIN LATERAL decline_session_request(v.r, nullif(s.x, '')::uuid, v.why) AS d"
)


def MOVE_AS(function: str) -> str:
    """start_session / complete_session / mark_session_no_show(session, mechanic): params (session_id, mechanic_id)."""
    return (
        "SELECT t.* FROM (VALUES (%s::uuid, %s::uuid)) AS v (r, m) " + _MECH
        + f"CROSS JOIN LATERAL {function}(v.r, nullif(s.x, '')::uuid) AS t"
    )


# review_session(session, customer, rating, comment): params (session_id, customer_id, rating, comment)
REVIEW_AS = (
    "SELECT t.* FROM (VALUES (%s::uuid, %s::uuid, %s::integer, %s::text)) AS v (r, c, k, txt) "
    "CROSS JOIN LATERAL (SELECT set_config('app.customer_id', coalesce(v.c::text, ''), TRUE)) AS s (x) "
    "CROSS JOIN LATERAL review_session(v.r, nullif(s.x, '')::uuid, v.k, v.txt) AS t"
)


def offered(conn, mechanic_id) -> set:
    return {r for (r,) in conn.execute(offers_as("request_id"), (mechanic_id, 500)).fetchall()}


def visible_as(conn, mechanic_id) -> set:
    """What the row policy shows the role mechanic whose verified identity (JWT claims) is mechanic_id."""
    conn.execute("SET ROLE mechanic")
    try:
        claims = json.dumps({"sub": str(mechanic_id), "role": "mechanic", "exp": 4102444800})
        conn.execute("SELECT set_config('request.jwt.claims', %s, FALSE)", (claims,))
        return {r for (r,) in conn.execute("SELECT id FROM session_requests").fetchall()}
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET request.jwt.claims")
