"""Staff are granted in the database: the app's app.staff_id counts only for an active member
of staff_members, at the level the call needs (support < admin); their actions are audited."""

from __future__ import annotations

import uuid

import psycopg
import pytest

ADMIN = "44444444-4444-4444-8444-0000000000a1"
SUPPORT = "44444444-4444-4444-8444-0000000000a2"
LEFT = "44444444-4444-4444-8444-0000000000a3"

AS_STAFF = (
    "SELECT (m).id, (m).staff_role FROM (VALUES (%s::text, %s::uuid, %s::text)) AS v (me, target, lvl) "
    "CROSS JOIN LATERAL (SELECT set_config('app.staff_id', v.me, TRUE)) AS s (x) "
    "CROSS JOIN LATERAL (SELECT ssr_private.assert_staff(CASE WHEN s.x IS NOT NULL THEN v.target END, v.lvl)) AS a (m)"
)


@pytest.fixture
def staff(conn):
    conn.execute(
        "INSERT INTO staff_members (id, email, name, staff_role, is_active) VALUES "
        "(%s, 'a@s.example', 'Ada', 'admin', TRUE), (%s, 'b@s.example', 'Bo', 'support', TRUE), "
        "(%s, 'c@s.example', 'Cy', 'admin', FALSE)",
        (ADMIN, SUPPORT, LEFT),
    )


def refused(conn, sql, params, sqlstate="SR403"):
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    assert info.value.sqlstate == sqlstate, info.value
    return info.value


def test_active_staff_at_their_level_are_admitted(conn, staff):
    assert conn.execute(AS_STAFF, (ADMIN, ADMIN, "admin")).fetchone() == (uuid.UUID(ADMIN), "admin")
    assert conn.execute(AS_STAFF, (ADMIN, ADMIN, "support")).fetchone()[1] == "admin"
    assert conn.execute(AS_STAFF, (SUPPORT, SUPPORT, "support")).fetchone()[1] == "support"


def test_staff_below_the_level_inactive_unknown_or_someone_else_are_refused(conn, staff):
    assert "needs an admin" in str(refused(conn, AS_STAFF, (SUPPORT, SUPPORT, "admin")))
    assert "not an active staff member" in str(refused(conn, AS_STAFF, (LEFT, LEFT, "support")))
    stranger = str(uuid.uuid4())
    assert "not an active staff member" in str(refused(conn, AS_STAFF, (stranger, stranger, "support")))
    refused(conn, AS_STAFF, (SUPPORT, ADMIN, "support"))
    refused(conn, "SELECT ssr_private.assert_staff(%s, 'support')", (ADMIN,))
    assert refused(conn, AS_STAFF, (ADMIN, ADMIN, "root"), "SR400").diag.column_name == "level"


def test_a_staff_action_is_recorded_with_the_transaction(conn, staff):
    with conn.transaction():
        conn.execute(
            "SELECT ssr_private.staff_action_record(%s, 'refund.retry', 're_1', '{\"why\": \"card\"}')", (ADMIN,)
        )
    with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
        conn.execute("SELECT ssr_private.staff_action_record(%s, 'refund.retry', 're_2')", (ADMIN,))
        conn.execute("SELECT 1 / 0")
    rows = conn.execute("SELECT staff_id, action, subject, details FROM ssr_private.staff_actions").fetchall()
    assert rows == [(uuid.UUID(ADMIN), "refund.retry", "re_1", {"why": "card"})]
