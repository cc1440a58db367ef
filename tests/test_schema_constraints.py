"""Every check constraint and foreign key of the base schema rejects a bad row.

Each case starts from a row that inserts fine (checked first, so a case cannot
pass because the row was bad for another reason), changes one thing, and
expects the named SQLSTATE.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

CHECK, FK, UNIQUE, NOT_NULL = "23514", "23503", "23505", "23502"

WS = "aaaaaaaa-0000-4000-8000-000000000001"
MECH = "bbbbbbbb-0000-4000-8000-000000000001"
CUST = "cccccccc-0000-4000-8000-000000000001"
INTAKE = "dddddddd-0000-4000-8000-000000000001"
SESSION = "eeeeeeee-0000-4000-8000-000000000001"
MISSING = "ffffffff-0000-4000-8000-00000000dead"


def base_rows(conn):
    conn.execute("INSERT INTO organizations (id, name, contact_email, status) VALUES (%s, 'W', 'w@x.example', 'active')", (WS,))
    conn.execute("INSERT INTO mechanics (id, workshop_id, name, email) VALUES (%s, %s, 'M', 'm@x.example')", (MECH, WS))
    conn.execute("INSERT INTO customers (id, email) VALUES (%s, 'c@x.example')", (CUST,))
    conn.execute("INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES ('video15', 'V', 2900, 'usd', 15)")
    conn.execute("INSERT INTO intakes (id, customer_id, description) VALUES (%s, %s, 'noise')", (INTAKE, CUST))
    conn.execute(
        "INSERT INTO sessions (id, customer_id, plan_code, amount_total_minor, currency, stripe_checkout_session_id) "
        "VALUES (%s, %s, 'video15', 2900, 'usd', 'cs_test_base')",
        (SESSION, CUST),
    )


def valid(table: str) -> dict:
    """A row of `table` that inserts fine on top of base_rows()."""
    u = uuid.uuid4().hex[:8]
    return {
        "organizations": {"name": "Shop", "contact_email": f"s{u}@x.example", "status": "pending"},
        "mechanics": {"workshop_id": WS, "name": "Mo", "email": f"mo{u}@x.example", "status": "active", "rating": 4.5},
        "customers": {"email": f"c{u}@x.example", "name": "C"},
        "plans": {"code": f"p{u}", "name": "P", "session_type": "video", "price_minor": 100, "currency": "eur", "duration_minutes": 30},
        "intakes": {"customer_id": CUST, "description": "squeak", "vehicle_year": 2015},
        "sessions": {
            "customer_id": CUST, "mechanic_id": MECH, "plan_code": "video15", "intake_id": INTAKE,
            "stripe_checkout_session_id": f"cs_test_{u}", "amount_total_minor": 2900, "currency": "usd",
            "status": "live", "started_at": "2026-01-01T10:00Z", "ended_at": "2026-01-01T10:15Z",
            "workshop_id": WS, "preferred_workshop_id": WS,
        },
        "session_requests": {
            "customer_id": CUST, "plan_code": "video15", "status": "pending",
            "created_at": "2026-01-01T10:00Z", "routing_type": "hybrid", "preferred_workshop_id": WS,
        },
        "reviews": {"session_id": SESSION, "customer_id": CUST, "mechanic_id": MECH, "rating": 5},
    }[table]


CASES = [
    # table, changes, expected SQLSTATE
    ("organizations", {"status": "closed"}, CHECK),
    ("organizations", {"name": "  "}, CHECK),
    ("organizations", {"contact_email": "not-an-email"}, CHECK),
    ("organizations", {"name": None}, NOT_NULL),
    ("mechanics", {"workshop_id": MISSING}, FK),
    ("mechanics", {"status": "retired"}, CHECK),
    ("mechanics", {"rating": 5.5}, CHECK),
    ("mechanics", {"rating": -1}, CHECK),
    ("mechanics", {"email": "m@x.example"}, UNIQUE),
    ("mechanics", {"email": "nope"}, CHECK),
    ("mechanics", {"name": ""}, CHECK),
    ("customers", {"email": "c@x.example"}, UNIQUE),
    ("customers", {"email": "bad"}, CHECK),
    ("plans", {"code": "Video 15"}, CHECK),
    ("plans", {"price_minor": 0}, CHECK),
    ("plans", {"currency": "USD"}, CHECK),
    ("plans", {"duration_minutes": 0}, CHECK),
    ("plans", {"session_type": "phone"}, CHECK),
    ("plans", {"name": " "}, CHECK),
    ("intakes", {"customer_id": MISSING}, FK),
    ("intakes", {"vehicle_year": 1800}, CHECK),
    ("intakes", {"description": ""}, CHECK),
    ("sessions", {"customer_id": MISSING}, FK),
    ("sessions", {"mechanic_id": MISSING}, FK),
    ("sessions", {"plan_code": "nope"}, FK),
    ("sessions", {"intake_id": MISSING}, FK),
    ("sessions", {"workshop_id": MISSING}, FK),
    ("sessions", {"preferred_workshop_id": MISSING}, FK),
    ("sessions", {"stripe_checkout_session_id": "pi_123"}, CHECK),
    ("sessions", {"stripe_checkout_session_id": "cs_test_base"}, UNIQUE),
    ("sessions", {"amount_total_minor": -1}, CHECK),
    ("sessions", {"currency": "us"}, CHECK),
    ("sessions", {"status": "paused"}, CHECK),
    ("sessions", {"ended_at": "2026-01-01T09:00Z"}, CHECK),
    ("sessions", {"mechanic_id": None}, CHECK),  # live without a mechanic
    ("session_requests", {"customer_id": MISSING}, FK),
    ("session_requests", {"plan_code": "nope"}, FK),
    ("session_requests", {"session_id": MISSING}, FK),
    ("session_requests", {"status": "open"}, CHECK),
    ("session_requests", {"status": "accepted"}, CHECK),  # accepted without a mechanic
    ("session_requests", {"mechanic_id": MECH}, CHECK),  # a mechanic on a pending request
    ("session_requests", {"accepted_at": "2026-01-01T10:01Z"}, CHECK),  # accepted_at on a pending request
    ("session_requests", {"status": "accepted", "mechanic_id": MECH}, CHECK),  # accepted without accepted_at
    ("session_requests", {"mechanic_id": MISSING, "status": "accepted", "accepted_at": "2026-01-01T10:01Z"}, FK),
    ("session_requests", {"status": "accepted", "mechanic_id": MECH, "accepted_at": "2026-01-01T09:00Z"}, CHECK),
    ("session_requests", {"routing_type": "nearest"}, CHECK),
    ("session_requests", {"preferred_workshop_id": None}, CHECK),  # hybrid without a workshop
    ("session_requests", {"preferred_workshop_id": MISSING}, FK),
    ("session_requests", {"workshop_id": MISSING}, FK),
    ("reviews", {"rating": 0}, CHECK),
    ("reviews", {"rating": 6}, CHECK),
    ("reviews", {"session_id": MISSING}, FK),
    ("reviews", {"customer_id": MISSING}, FK),
    ("reviews", {"mechanic_id": MISSING}, FK),
]


def insert(conn, table: str, row: dict) -> None:
    cols = list(row)
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(sql.Placeholder() * len(cols)),
        ),
        [row[c] for c in cols],
    )


@pytest.fixture(scope="module")
def schema_db(pg_server_url, migrated_template):
    from tests.dbutil import create_database, drop_database, url_for

    name = create_database(pg_server_url, template=migrated_template)
    url = url_for(pg_server_url, name)
    with psycopg.connect(url, autocommit=True) as c:
        base_rows(c)
    yield url
    drop_database(pg_server_url, name)


@pytest.mark.parametrize(("table", "changes", "sqlstate"), CASES, ids=[f"{t}-{'-'.join(c)}-{s}" for t, c, s in CASES])
def test_bad_row_is_rejected(schema_db, table, changes, sqlstate):
    with psycopg.connect(schema_db) as c:  # one transaction, rolled back at the end
        c.execute("SAVEPOINT good")
        insert(c, table, valid(table))  # the control row must insert
        c.execute("ROLLBACK TO SAVEPOINT good")
        bad = {**valid(table), **changes}
        if table == "reviews":  # one review per session: use a fresh session for the bad row
            sid = c.execute(
                "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency) "
                "VALUES (%s, 'video15', 1, 'usd') RETURNING id", (CUST,)
            ).fetchone()[0]
            bad.setdefault("session_id", sid)
            if changes.get("session_id") is None and "session_id" not in changes:
                bad["session_id"] = sid
        with pytest.raises(psycopg.Error) as err:
            insert(c, table, bad)
        assert err.value.sqlstate == sqlstate, err.value
        c.rollback()


def test_one_review_per_session(schema_db):
    with psycopg.connect(schema_db) as c:
        insert(c, "reviews", valid("reviews"))
        with pytest.raises(psycopg.errors.UniqueViolation):
            insert(c, "reviews", valid("reviews"))
        c.rollback()


def test_restrict_keeps_history(schema_db):
    """A workshop or mechanic with history cannot be deleted out from under it."""
    with psycopg.connect(schema_db) as c:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            c.execute("DELETE FROM organizations WHERE id = %s", (WS,))
        c.rollback()


def test_every_public_table_and_column_is_commented(conn):
    missing = conn.execute(
        """
        SELECT c.relname || coalesce('.' || a.attname, '')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'v', 'm')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
          AND (obj_description(c.oid, 'pg_class') IS NULL
               OR (a.attnum IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))
        ORDER BY 1
        """
    ).fetchall()
    assert missing == []
