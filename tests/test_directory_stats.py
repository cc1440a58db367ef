"""workshop_stats: trigger-maintained aggregates equal a from-scratch recount.

A property-based test drives random inserts, updates (including moves between
workshops) and deletes of mechanics, sessions, reviews and organizations through
SQL on a real PostgreSQL, then compares the table with RECOUNT below.
"""

from __future__ import annotations

import random
import threading
import uuid
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent

# Written independently of the migration and of ssr_private.workshop_stats_rebuild().
RECOUNT = """
SELECT
    o.id AS workshop_id,
    (SELECT count(*) FROM mechanics AS m WHERE m.workshop_id = o.id) AS total_mechanics,
    (SELECT count(*) FROM mechanics AS m WHERE m.workshop_id = o.id AND m.status = 'active') AS active_mechanics,
    (SELECT count(*) FROM mechanics AS m
      WHERE m.workshop_id = o.id AND m.status = 'active' AND m.is_available) AS available_mechanics,
    (SELECT count(*) FROM sessions AS s WHERE s.workshop_id = o.id) AS sessions_served,
    (SELECT count(*) FROM reviews AS r JOIN sessions AS s ON s.id = r.session_id
      WHERE s.workshop_id = o.id) AS review_count,
    (SELECT coalesce(sum(r.rating), 0) FROM reviews AS r JOIN sessions AS s ON s.id = r.session_id
      WHERE s.workshop_id = o.id) AS rating_sum
FROM organizations AS o
ORDER BY o.id
"""
# routing_candidates against the eligibility view (both follow routing_mechanic_eligible).
CANDIDATES = """
SELECT (SELECT eligible_mechanics FROM routing_candidates), (SELECT count(*)::integer FROM ssr_private.routing_available_mechanics)
"""
# The directory's size, recounted from mechanics and organizations (not from workshop_stats).
LISTED = """
SELECT
    (SELECT listed_workshops FROM routing_candidates),
    (SELECT count(*)::integer FROM organizations AS o WHERE o.status = 'active' AND EXISTS (
        SELECT 1 FROM mechanics AS m WHERE m.workshop_id = o.id AND m.status = 'active' AND m.is_available))
"""
# The directory in its order, sorted here from the recount (round half away from zero, like numeric).
DIRECTORY_RECOUNT = """
SELECT r.workshop_id
FROM (""" + RECOUNT.strip().removesuffix("ORDER BY o.id").strip() + """) AS r
JOIN organizations AS o ON o.id = r.workshop_id
WHERE o.status = 'active' AND r.available_mechanics > 0
ORDER BY round((80 + r.rating_sum)::numeric / (20 + r.review_count), 6) DESC, r.available_mechanics DESC,
    r.sessions_served DESC, r.workshop_id
"""


def directory_walk(conn, limit: int) -> list:
    """The whole directory by starting_after cursors, limit rows a page."""
    seen, after = [], None
    while True:
        rows = conn.execute(
            "SELECT workshop_id, row_cursor, has_more, total_count FROM get_workshop_directory(%s, 0, %s)",
            (limit, after),
        ).fetchall()
        seen += [r[0] for r in rows]
        if not rows or not rows[-1][2]:
            return seen
        after = rows[-1][1]
STATS = """
SELECT workshop_id, total_mechanics, active_mechanics, available_mechanics, sessions_served, review_count, rating_sum
FROM workshop_stats ORDER BY workshop_id
"""

UNREVIEWED = "SELECT id FROM sessions AS s WHERE NOT EXISTS (SELECT 1 FROM reviews AS r WHERE r.session_id = s.id) ORDER BY id"
CUSTOMER = uuid.UUID("00000000-0000-4000-8000-000000000c01")
N_ANCHORS = 3  # mechanics referenced by sessions and reviews; never deleted


def setup_world(conn) -> None:
    conn.execute("INSERT INTO customers (id, email) VALUES (%s, 'prop@example.com')", (CUSTOMER,))
    conn.execute("INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES ('pp', 'P', 500, 'usd', 15)")
    for i in range(3):
        conn.execute(
            "INSERT INTO organizations (name, contact_email, status) VALUES (%s, %s, %s)",
            (f"W{i}", f"w{i}@example.com", ["active", "pending", "suspended"][i]),
        )
    for i in range(N_ANCHORS):
        conn.execute(
            "INSERT INTO mechanics (name, email, workshop_id, is_available) "
            "VALUES ('Anchor', %s, (SELECT id FROM organizations ORDER BY name OFFSET %s LIMIT 1), TRUE)",
            (f"anchor{i}@example.com", i),
        )
    # a populated start, so that the first operations already update and delete
    conn.execute(
        "INSERT INTO mechanics (name, email, workshop_id, is_available) "
        "SELECT 'M', 'm' || o.name || '@example.com', o.id, o.name <> 'W2' FROM organizations AS o"
    )
    conn.execute(
        "INSERT INTO sessions (customer_id, mechanic_id, plan_code, amount_total_minor, currency, status, workshop_id) "
        "SELECT %s, (SELECT min(id::text)::uuid FROM mechanics WHERE name = 'Anchor'), 'pp', 500, 'usd', 'completed', w "
        "FROM (SELECT id FROM organizations UNION ALL SELECT id FROM organizations UNION ALL SELECT NULL) AS t (w)",
        (CUSTOMER,),
    )
    conn.execute(
        "INSERT INTO reviews (session_id, customer_id, mechanic_id, rating) "
        "SELECT s.id, s.customer_id, s.mechanic_id, 1 + (row_number() OVER (ORDER BY s.id))::integer % 5 "
        "FROM sessions AS s ORDER BY s.id LIMIT 5"
    )


def pick(conn, sql: str, k: int):
    """The k-th (modulo the count) id returned by sql, ordered; None when there is none."""
    ids = [r[0] for r in conn.execute(sql).fetchall()]
    return ids[k % len(ids)] if ids else None


def workshop_or_none(conn, k: int):
    """A workshop id, or NULL (independent) for one choice in four."""
    if k % 4 == 3:
        return None
    return pick(conn, "SELECT id FROM organizations ORDER BY id", k)


def other_workshop(conn, table: str, row_id, k: int):
    """A workshop other than the row's current one (NULL for one choice in four, unless already NULL)."""
    if k % 4 == 3:
        return None
    return pick(
        conn,
        f"SELECT id FROM organizations WHERE id IS DISTINCT FROM (SELECT workshop_id FROM {table} WHERE id = '{row_id}') "
        "ORDER BY id",
        k,
    )


def anchor(conn, k: int):
    return pick(conn, "SELECT id FROM mechanics WHERE name = 'Anchor' ORDER BY id", k)


def apply_op(conn, op: str, a: int, b: int, c: int) -> None:
    if op == "org_ins":
        conn.execute("INSERT INTO organizations (name, contact_email) VALUES ('New', 'new@example.com')")
    elif op == "org_status":
        conn.execute(
            "UPDATE organizations SET status = %s WHERE id = %s",
            (["active", "pending", "suspended"][b % 3], pick(conn, "SELECT id FROM organizations ORDER BY id", a)),
        )
    elif op == "mech_ins":
        conn.execute(
            "INSERT INTO mechanics (name, email, workshop_id, is_available, status) VALUES ('M', %s, %s, %s, %s)",
            (f"{uuid.uuid4().hex}@example.com", workshop_or_none(conn, a), b % 2 == 0, ["active", "suspended"][c % 2]),
        )
    elif op == "mech_upd":
        m = pick(conn, "SELECT id FROM mechanics ORDER BY id", a)
        field = c % 4
        if field == 0:
            conn.execute("UPDATE mechanics SET workshop_id = %s WHERE id = %s", (other_workshop(conn, "mechanics", m, b), m))
        elif field == 1:
            conn.execute("UPDATE mechanics SET is_available = NOT is_available WHERE id = %s", (m,))
        elif field == 2:
            conn.execute(
                "UPDATE mechanics SET status = CASE status WHEN 'active' THEN 'suspended' ELSE 'active' END WHERE id = %s",
                (m,),
            )
        else:  # everything at once, and a column the triggers ignore
            conn.execute(
                "UPDATE mechanics SET workshop_id = %s, is_available = %s, status = %s, last_seen_at = now() WHERE id = %s",
                (workshop_or_none(conn, b), b % 2 == 1, ["active", "suspended"][b % 2], m),
            )
    elif op == "mech_del":
        m = pick(conn, "SELECT id FROM mechanics WHERE name <> 'Anchor' ORDER BY id", a)
        if m is not None:
            conn.execute("DELETE FROM mechanics WHERE id = %s", (m,))
    elif op == "mech_bulk_move":
        conn.execute(
            "UPDATE mechanics SET workshop_id = %s WHERE workshop_id IS NOT DISTINCT FROM %s",
            (workshop_or_none(conn, a), workshop_or_none(conn, b)),
        )
    elif op == "sess_ins":
        conn.execute(
            "INSERT INTO sessions (customer_id, mechanic_id, plan_code, amount_total_minor, currency, status, workshop_id) "
            "VALUES (%s, %s, 'pp', 500, 'usd', 'completed', %s)",
            (CUSTOMER, anchor(conn, c), workshop_or_none(conn, a)),
        )
    elif op == "sess_upd":
        s = pick(conn, "SELECT id FROM sessions ORDER BY id", a)
        if s is not None:
            if c % 3 == 2:  # a change the triggers ignore
                conn.execute("UPDATE sessions SET status = 'refunded' WHERE id = %s", (s,))
            else:
                conn.execute("UPDATE sessions SET workshop_id = %s WHERE id = %s", (other_workshop(conn, "sessions", s, b), s))
    elif op == "sess_bulk_move":
        conn.execute(
            "UPDATE sessions SET workshop_id = %s WHERE workshop_id IS NOT DISTINCT FROM %s",
            (workshop_or_none(conn, a), workshop_or_none(conn, b)),
        )
    elif op == "sess_del":
        s = pick(conn, "SELECT id FROM sessions ORDER BY id", a)
        if s is not None:
            conn.execute("DELETE FROM sessions WHERE id = %s", (s,))  # cascades to its review
    elif op == "sess_bulk_del":
        conn.execute("DELETE FROM sessions WHERE workshop_id IS NOT DISTINCT FROM %s", (workshop_or_none(conn, a),))
    elif op == "rev_ins":
        s = pick(conn, UNREVIEWED, a)
        if s is not None:
            conn.execute(
                "INSERT INTO reviews (session_id, customer_id, mechanic_id, rating) VALUES (%s, %s, %s, %s)",
                (s, CUSTOMER, anchor(conn, c), 1 + b % 5),
            )
    elif op == "rev_upd":
        r = pick(conn, "SELECT id FROM reviews ORDER BY id", a)
        if r is not None:
            if c % 2 == 0:
                # always a different number of stars
                conn.execute("UPDATE reviews SET rating = 1 + (rating + %s) %% 5 WHERE id = %s", (b % 4, r))
            else:  # move the review to another session without one (and change the stars)
                s = pick(conn, UNREVIEWED, b)
                if s is not None:
                    conn.execute("UPDATE reviews SET session_id = %s, rating = %s WHERE id = %s", (s, 1 + c % 5, r))
    elif op == "rev_del":
        r = pick(conn, "SELECT id FROM reviews ORDER BY id", a)
        if r is not None:
            conn.execute("DELETE FROM reviews WHERE id = %s", (r,))
    else:  # pragma: no cover
        raise AssertionError(op)


OPS = [
    "org_ins",
    "org_status",
    "mech_ins",
    "mech_upd",
    "mech_del",
    "mech_bulk_move",
    "sess_ins",
    "sess_ins",
    "sess_upd",
    "sess_bulk_move",
    "sess_del",
    "sess_bulk_del",
    "rev_ins",
    "rev_ins",
    "rev_upd",
    "rev_del",
]
op_lists = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=op_lists, limit=st.integers(1, 3))
def test_stats_equal_recount_after_random_changes(conn, ops, limit):
    with conn.transaction(force_rollback=True):
        setup_world(conn)
        for op, a, b, c in ops:
            apply_op(conn, op, a, b, c)
        assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()
        got, want = conn.execute(CANDIDATES).fetchone()
        assert got == want
        got, want = conn.execute(LISTED).fetchone()
        assert got == want
        # the directory, page by page with cursors, is the recount sorted
        expected = [r[0] for r in conn.execute(DIRECTORY_RECOUNT).fetchall()]
        assert len(expected) == want
        assert directory_walk(conn, limit) == expected
        assert conn.execute("SELECT ssr_private.workshop_stats_rebuild()").fetchone()[0] == 0
        # the directory reads these rows: every workshop it lists has someone available
        listed = conn.execute("SELECT workshop_id, available_mechanics FROM get_workshop_directory(100, 0)").fetchall()
        assert all(n > 0 for _, n in listed)


def test_stats_on_seed_data_and_after_cascading_delete(seeded_conn):
    conn = seeded_conn
    assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()
    served = conn.execute("SELECT sum(sessions_served), sum(review_count) FROM workshop_stats").fetchone()
    assert served[0] > 0 and served[1] > 0
    # deleting sessions cascades to their requests and reviews
    conn.execute("DELETE FROM sessions WHERE workshop_id = '11111111-1111-4111-8111-000000000001'")
    assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()
    row = conn.execute(
        "SELECT sessions_served, review_count, rating_sum FROM workshop_stats "
        "WHERE workshop_id = '11111111-1111-4111-8111-000000000001'"
    ).fetchone()
    assert row == (0, 0, 0)


def test_failed_statement_leaves_no_delta(conn):
    """A failed statement leaves no delta behind (the triggers run in the same transaction)."""
    setup_world(conn)
    w = conn.execute("SELECT id FROM organizations ORDER BY name LIMIT 1").fetchone()[0]
    before = conn.execute(STATS).fetchall()
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO mechanics (name, email, workshop_id, is_available) VALUES ('X', 'x@example.com', %s, TRUE)", (w,)
            )
            conn.execute("INSERT INTO mechanics (name, email, workshop_id) VALUES ('Y', 'x@example.com', %s)", (w,))
    except psycopg.errors.UniqueViolation:
        pass
    assert conn.execute(STATS).fetchall() == before


def test_rebuild_repairs_drift(conn):
    setup_world(conn)
    for op in ("sess_ins", "sess_ins", "rev_ins", "mech_ins"):
        apply_op(conn, op, 1, 2, 3)
    assert conn.execute("SELECT ssr_private.workshop_stats_rebuild()").fetchone()[0] == 0
    conn.execute("UPDATE workshop_stats SET sessions_served = sessions_served + 7, total_mechanics = total_mechanics + 1")
    n_orgs = conn.execute("SELECT count(*) FROM organizations").fetchone()[0]
    assert conn.execute("SELECT ssr_private.workshop_stats_rebuild()").fetchone()[0] == n_orgs
    assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()
    # the directory's size too
    conn.execute("UPDATE routing_candidates SET listed_workshops = listed_workshops + 5")
    assert conn.execute("SELECT ssr_private.workshop_stats_rebuild()").fetchone()[0] == 1
    got, want = conn.execute(LISTED).fetchone()
    assert got == want and want > 0


def test_migration_backfills_existing_data(empty_db_url):
    """0030 and its backfill (0032) on a database that already has workshops, mechanics, sessions
    and reviews (the columns of 0002-0003 filled, no trigger yet)."""
    from tools.migrate import migrate

    migrate(empty_db_url, target="0003", say=lambda _m: None)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        setup_world(conn)
        for i, op in enumerate(["mech_ins", "sess_ins", "sess_ins", "sess_ins", "rev_ins", "rev_ins", "mech_upd"] * 3):
            apply_op(conn, op, i * 7 + 1, i * 3 + 2, i)
    migrate(empty_db_url, say=lambda _m: None)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        stats = conn.execute(STATS).fetchall()
        assert stats == conn.execute(RECOUNT).fetchall()
        assert sum(r[4] for r in stats) > 0 and sum(r[5] for r in stats) > 0
        got, want = conn.execute(LISTED).fetchone()
        assert got == want  # (the random operations may leave no workshop listed: 0 = 0 is right too)


# Errors a concurrent writer may legitimately meet (its transaction rolls back whole);
# anything else, e.g. a CHECK violation of workshop_stats, fails the test.
BENIGN = (
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
    psycopg.errors.ForeignKeyViolation,  # the picked row was deleted meanwhile
    psycopg.errors.UniqueViolation,  # the picked session got its review meanwhile
)


def test_stats_exact_under_concurrent_writers(db_url, conn):
    """Six connections move, toggle, review and delete at the same time; the deltas add up."""
    setup_world(conn)
    for i in range(12):
        apply_op(conn, ["sess_ins", "rev_ins", "mech_ins"][i % 3], i, i * 7, i * 13)
    done: list[int] = []
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        ok = 0
        try:
            with psycopg.connect(db_url, autocommit=True) as c:
                for _ in range(40):
                    op = rng.choice(OPS)
                    try:
                        with c.transaction():
                            apply_op(c, op, rng.randrange(1000), rng.randrange(1000), rng.randrange(1000))
                        ok += 1
                    except BENIGN:
                        pass
        except BaseException as exc:
            errors.append(exc)
        done.append(ok)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(done) > 120  # most operations went through
    assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()
    got, want = conn.execute(CANDIDATES).fetchone()
    assert got == want
    got, want = conn.execute(LISTED).fetchone()
    assert got == want


def test_truncate_recounts(conn):
    setup_world(conn)
    conn.execute("TRUNCATE reviews")
    assert conn.execute("SELECT sum(review_count), sum(rating_sum) FROM workshop_stats").fetchone() == (0, 0)
    assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()
    conn.execute("TRUNCATE sessions CASCADE")
    assert conn.execute("SELECT sum(sessions_served) FROM workshop_stats").fetchone() == (0,)
    assert conn.execute(STATS).fetchall() == conn.execute(RECOUNT).fetchall()


def test_one_copy_of_the_eligibility_rule(conn):
    """The view, the mechanic policy (through routing_mechanic_offerable, which adds capacity) and the
    counting triggers all call routing_mechanic_eligible; none spells the rule out (a changed rule
    changes them all)."""
    policy = conn.execute(
        "SELECT qual FROM pg_policies WHERE policyname = 'session_requests_mechanic_select'").fetchone()[0]
    view = conn.execute("SELECT pg_get_viewdef('ssr_private.routing_available_mechanics'::regclass)").fetchone()[0]
    offerable = conn.execute(
        "SELECT prosrc FROM pg_proc WHERE proname = 'routing_mechanic_offerable'").fetchone()[0]
    assert "routing_mechanic_offerable(" in policy
    for text in (policy, view, offerable):
        assert "is_available =" not in text and "'active'" not in text
    for text in (view, offerable):
        assert "routing_mechanic_eligible(" in text
    for fn in ("workshop_stats_mechanics_trg", "routing_candidates_organizations_trg", "workshop_stats_rebuild",
               "create_session_request"):
        body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", (fn,)).fetchone()[0]
        assert "AND NEW.is_available" not in body and "m.is_available\n" not in body
    assert conn.execute(
        "SELECT routing_mechanic_eligible('active', TRUE, NULL, NULL), routing_mechanic_eligible('active', TRUE, "
        "gen_random_uuid(), 'pending'), routing_mechanic_eligible('suspended', TRUE, NULL, NULL), "
        "routing_mechanic_eligible('active', FALSE, NULL, NULL), routing_mechanic_eligible('active', TRUE, "
        "gen_random_uuid(), 'active')").fetchone() == (True, False, False, False, True)
