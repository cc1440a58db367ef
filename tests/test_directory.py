"""Workshop directory: ranking, filtering, pagination and argument checks.

Everything runs against a real migrated PostgreSQL; the expected order is computed
here in Python (exact fractions) from the rows the test inserted.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from fractions import Fraction

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PRIOR_REVIEWS = 20
PRIOR_MEAN = Fraction(4)


def _uuid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


def make_workshop(conn, n: int, name: str, status: str = "active") -> uuid.UUID:
    wid = _uuid(n)
    conn.execute(
        "INSERT INTO organizations (id, name, contact_email, status, created_at) "
        "VALUES (%s, %s, %s, %s, timestamptz '2026-01-01 00:00+00' + make_interval(days => %s))",
        (wid, name, f"w{n}@example.com", status, n % 50),
    )
    return wid


def add_mechanics(conn, workshop_id, available: int = 0, unavailable: int = 0, suspended_available: int = 0):
    rows = [(True, "active")] * available + [(False, "active")] * unavailable
    rows += [(True, "suspended")] * suspended_available
    for is_available, status in rows:
        conn.execute(
            "INSERT INTO mechanics (workshop_id, name, email, is_available, status) VALUES (%s, 'M', %s, %s, %s)",
            (workshop_id, f"{uuid.uuid4().hex}@m.example", is_available, status),
        )


@pytest.fixture
def base(conn):
    """A customer, a plan and a spare mechanic to attach sessions and reviews to."""
    conn.execute("INSERT INTO customers (id, email) VALUES (%s, 'c@example.com')", (_uuid(900001),))
    conn.execute(
        "INSERT INTO plans (code, name, price_minor, currency, duration_minutes) "
        "VALUES ('p15', 'Plan', 1000, 'usd', 15)"
    )
    conn.execute(
        "INSERT INTO mechanics (id, name, email) VALUES (%s, 'Indie', 'indie@m.example')",
        (_uuid(900002),),
    )
    return conn


def add_sessions(conn, workshop_id, ratings: list[int | None]):
    """One completed session served by the workshop per entry; a review when the entry is a number."""
    conn.execute(
        """
        WITH r AS (
            SELECT ord, rating FROM unnest(%s::integer[]) WITH ORDINALITY AS t (rating, ord)
        ), s AS (
            INSERT INTO sessions (customer_id, mechanic_id, plan_code, amount_total_minor, currency, status,
                                  workshop_id)
            SELECT %s, %s, 'p15', 1000, 'usd', 'completed', %s FROM r
            RETURNING id
        ), numbered AS (
            SELECT id, row_number() OVER (ORDER BY id) AS ord FROM s
        )
        INSERT INTO reviews (session_id, customer_id, mechanic_id, rating)
        SELECT n.id, %s, %s, r.rating FROM numbered AS n JOIN r USING (ord) WHERE r.rating IS NOT NULL
        """,
        (ratings, _uuid(900001), _uuid(900002), workshop_id, _uuid(900001), _uuid(900002)),
    )


def directory(conn, limit=100, offset=0):
    cur = conn.execute("SELECT * FROM get_workshop_directory(%s, %s)", (limit, offset))
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def expected_key(rating_sum: int, review_count: int, available: int, sessions: int, wid: uuid.UUID):
    score = (PRIOR_REVIEWS * PRIOR_MEAN + rating_sum) / (PRIOR_REVIEWS + review_count)
    # round to 6 decimals like the function, then sort descending except the id
    return (-round(score, 6), -available, -sessions, str(wid))


def test_function_signature_matches_contract(conn):
    cur = conn.execute("SELECT * FROM get_workshop_directory(1, 0)")
    assert [d.name for d in cur.description] == [
        "workshop_id", "workshop_name", "workshop_email", "workshop_status", "total_mechanics",
        "available_mechanics", "avg_rating", "total_sessions", "created_at", "ranking_score", "total_count",
        "row_cursor", "has_more",
    ]


def test_shrunk_rating_ranking_and_ties(base):
    conn = base
    popular = make_workshop(conn, 1, "Popular 4.8 x200")
    lucky = make_workshop(conn, 2, "One five-star")
    roomy = make_workshop(conn, 3, "No reviews, two available")
    busy = make_workshop(conn, 4, "No reviews, sessions")
    tie_a = make_workshop(conn, 5, "Tie A")
    tie_b = make_workshop(conn, 6, "Tie B")
    poor = make_workshop(conn, 7, "Poor 2.0 x10")
    # excluded ones
    suspended = make_workshop(conn, 8, "Suspended star", status="suspended")
    pending = make_workshop(conn, 9, "Pending star", status="pending")
    nobody = make_workshop(conn, 10, "Nobody available")
    only_suspended = make_workshop(conn, 11, "Only a suspended mechanic is online")
    make_workshop(conn, 12, "No mechanics at all")

    for w in (popular, lucky, busy, tie_a, tie_b, poor, suspended, pending):
        add_mechanics(conn, w, available=1, unavailable=1)
    add_mechanics(conn, roomy, available=2)
    add_mechanics(conn, nobody, unavailable=3)
    add_mechanics(conn, only_suspended, unavailable=1, suspended_available=1)

    add_sessions(conn, popular, [5] * 160 + [4] * 40)  # 200 reviews, mean 4.8
    add_sessions(conn, lucky, [5])
    add_sessions(conn, busy, [None, None, None])
    add_sessions(conn, poor, [2] * 10)
    add_sessions(conn, suspended, [5] * 50)
    add_sessions(conn, pending, [5] * 50)
    add_sessions(conn, nobody, [5] * 50)

    rows = directory(conn)
    names = [r["workshop_name"] for r in rows]
    tie_first, tie_second = sorted([("Tie A", tie_a), ("Tie B", tie_b)], key=lambda t: str(t[1]))
    assert names == [
        "Popular 4.8 x200",
        "One five-star",
        "No reviews, two available",
        "No reviews, sessions",
        tie_first[0],
        tie_second[0],
        "Poor 2.0 x10",
    ]
    by_name = {r["workshop_name"]: r for r in rows}
    pop = by_name["Popular 4.8 x200"]
    assert pop["avg_rating"] == Decimal("4.80")
    assert pop["total_sessions"] == 200
    assert pop["total_mechanics"] == 2 and pop["available_mechanics"] == 1
    assert float(pop["ranking_score"]) == pytest.approx((20 * 4 + 960) / 220, abs=1e-6)
    assert float(by_name["One five-star"]["ranking_score"]) == pytest.approx(85 / 21, abs=1e-6)
    assert by_name["No reviews, two available"]["avg_rating"] is None
    assert by_name["No reviews, two available"]["ranking_score"] == 4
    assert by_name["No reviews, sessions"]["total_sessions"] == 3
    assert by_name["Poor 2.0 x10"]["avg_rating"] == 2
    assert all(r["workshop_status"] == "active" for r in rows)
    assert {r["total_count"] for r in rows} == {7}
    assert by_name["Tie A"]["workshop_email"] == "w5@example.com"


def test_directory_follows_availability_changes(base):
    conn = base
    w = make_workshop(conn, 1, "Flaky")
    add_mechanics(conn, w, available=1)
    assert [r["workshop_name"] for r in directory(conn)] == ["Flaky"]
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE workshop_id = %s", (w,))
    assert directory(conn) == []
    conn.execute("UPDATE mechanics SET is_available = TRUE WHERE workshop_id = %s", (w,))
    assert len(directory(conn)) == 1
    conn.execute("UPDATE mechanics SET status = 'suspended' WHERE workshop_id = %s", (w,))
    assert directory(conn) == []
    conn.execute("UPDATE mechanics SET status = 'active' WHERE workshop_id = %s", (w,))
    conn.execute("UPDATE organizations SET status = 'suspended' WHERE id = %s", (w,))
    assert directory(conn) == []
    conn.execute("UPDATE organizations SET status = 'active' WHERE id = %s", (w,))
    other = make_workshop(conn, 2, "Other")
    conn.execute("UPDATE mechanics SET workshop_id = %s WHERE workshop_id = %s", (other, w))
    assert [r["workshop_name"] for r in directory(conn)] == ["Other"]


def test_pagination_total_order_without_repeats_or_skips(base):
    conn = base
    n_workshops = 23
    ids = []
    stats = {}
    for i in range(n_workshops):
        w = make_workshop(conn, 100 + i, f"W{i:02d}")
        ids.append(w)
        available = 1 + i % 3
        add_mechanics(conn, w, available=available)
        # several groups share identical (reviews, stars, availability, sessions): ties broken by id
        ratings = [[], [5], [4, 4], [5] * 20 + [3] * 20][i % 4]
        add_sessions(conn, w, ratings)
        stats[w] = (sum(ratings), len(ratings), available, len(ratings))
    full = directory(conn, limit=100)
    expected = sorted(ids, key=lambda w: expected_key(*stats[w], w))
    assert [r["workshop_id"] for r in full] == expected
    for page_size in (1, 4, 5, 7, 23):
        seen = []
        offset = 0
        while True:
            page = directory(conn, limit=page_size, offset=offset)
            if not page:
                break
            assert len(page) <= page_size
            assert {r["total_count"] for r in page} == {n_workshops}
            seen += [r["workshop_id"] for r in page]
            offset += page_size
        assert seen == expected, f"page size {page_size}"
        assert len(set(seen)) == n_workshops
    assert directory(conn, limit=5, offset=n_workshops) == []


def test_seed_directory_lists_only_workshops_someone_can_serve(seeded_conn):
    rows = directory(seeded_conn)
    names = {r["workshop_name"] for r in rows}
    # Night Owl: nobody available; Shady Motors: suspended; Fresh Start: pending
    assert names == {"AutoPro Mechanics", "City Auto"}
    for r in rows:
        expect = seeded_conn.execute(
            """
            SELECT count(*) FILTER (WHERE r.id IS NOT NULL), coalesce(sum(r.rating), 0), count(*)
            FROM sessions AS s LEFT JOIN reviews AS r ON r.session_id = s.id
            WHERE s.workshop_id = %s
            """,
            (r["workshop_id"],),
        ).fetchone()
        n_reviews, stars, n_sessions = expect
        assert r["total_sessions"] == n_sessions
        assert float(r["avg_rating"]) == pytest.approx(stars / n_reviews, abs=0.005)
        assert float(r["ranking_score"]) == pytest.approx((80 + stars) / (20 + n_reviews), abs=1e-6)


@pytest.mark.parametrize(
    ("limit", "offset", "column"),
    [
        (0, 0, "limit"),
        (-1, 0, "limit"),
        (101, 0, "limit"),
        (2_000_000_000, 0, "limit"),
        (None, 0, "limit"),
        (10, -1, "offset"),
        (10, None, "offset"),
    ],
)
def test_bad_pagination_arguments_raise_sr400(conn, limit, offset, column):
    with pytest.raises(psycopg.Error) as exc:
        conn.execute("SELECT * FROM get_workshop_directory(%s::integer, %s::integer)", (limit, offset))
    assert exc.value.diag.sqlstate == "SR400"
    assert exc.value.diag.column_name == column
    assert column in exc.value.diag.message_primary


def test_limit_bounds_are_inclusive(base):
    conn = base
    for i in range(3):
        add_mechanics(conn, make_workshop(conn, 200 + i, f"B{i}"), available=1)
    assert len(directory(conn, limit=1)) == 1
    assert len(directory(conn, limit=100)) == 3
    assert len(directory(conn, limit=2, offset=2)) == 1


def test_directory_reads_only_the_aggregates(seeded_conn):
    """Cost independent of history: a call scans workshop_stats and organizations, never
    sessions, reviews, session_requests or mechanics (per-transaction scan counters)."""
    conn = seeded_conn
    counters = (
        "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
        "WHERE schemaname = 'public' AND relname IN "
        "('sessions', 'reviews', 'session_requests', 'mechanics', 'workshop_stats', 'organizations')"
    )
    with conn.transaction():
        before = dict(conn.execute(counters).fetchall())
        assert len(directory(conn, limit=10)) == 2
        after = dict(conn.execute(counters).fetchall())
    scans = {t: after[t] - before.get(t, 0) for t in after}
    assert scans["workshop_stats"] > 0 and scans["organizations"] > 0
    assert scans["sessions"] == scans["reviews"] == scans["session_requests"] == scans["mechanics"] == 0


# ------------------------------------------------------------------ keyset paging (cursors)

def page(conn, limit=20, offset=0, after=None, before=None):
    cur = conn.execute(
        "SELECT * FROM get_workshop_directory(%s, %s, %s, %s)", (limit, offset, after, before)
    )
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def walk_forward(conn, limit):
    """Every page from the first by starting_after; checks has_more on the way."""
    seen, after = [], None
    while True:
        rows = page(conn, limit, after=after)
        seen += [r["workshop_id"] for r in rows]
        more = {r["has_more"] for r in rows}
        assert len(more) <= 1
        if not rows or more == {False}:
            assert len(rows) <= limit
            return seen
        assert len(rows) == limit
        after = rows[-1]["row_cursor"]


def walk_backward(conn, limit, last_cursor):
    """Every page before the row of last_cursor by ending_before, back to the first row."""
    seen, before = [], last_cursor
    while True:
        rows = page(conn, limit, before=before)
        seen = [r["workshop_id"] for r in rows] + seen
        if not rows or not rows[0]["has_more"]:
            return seen
        assert len(rows) == limit
        before = rows[0]["row_cursor"]


def set_stats(conn, stats):
    """Workshops with the given (available, sessions, reviews, stars) straight into workshop_stats
    (the directory reads only it and organizations; the counting triggers are tested elsewhere)."""
    ids = []
    for i, (available, sessions, reviews, stars) in enumerate(stats):
        w = make_workshop(conn, 5000 + i, f"S{i}")
        conn.execute(
            "UPDATE workshop_stats SET total_mechanics = %s, active_mechanics = %s, available_mechanics = %s, "
            "sessions_served = %s, review_count = %s, rating_sum = %s WHERE workshop_id = %s",
            (available, available, available, sessions, reviews, stars, w),
        )
        ids.append(w)
    return ids


stat_lists = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 3), st.integers(0, 15)).map(
        lambda t: (t[0], t[1], t[2], min(max(t[3], t[2]), 5 * t[2]))  # reviews <= stars <= 5 * reviews
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stats=stat_lists, limit=st.integers(1, 7))
def test_cursor_pages_equal_a_full_sort(conn, stats, limit):
    """Property: walking the directory by starting_after, by ending_before from the last row, and by
    offset all give the list sorted in Python (exact fractions, many ties), each workshop once."""
    with conn.transaction(force_rollback=True):
        ids = set_stats(conn, stats)
        key = {w: expected_key(s[3], s[2], s[0], s[1], w) for w, s in zip(ids, stats, strict=True)}
        expected = sorted((w for w, s in zip(ids, stats, strict=True) if s[0] > 0), key=key.get)
        assert walk_forward(conn, limit) == expected
        by_offset, offset = [], 0
        while rows := page(conn, limit, offset=offset):
            by_offset += [r["workshop_id"] for r in rows]
            offset += limit
        assert by_offset == expected
        if expected:
            last = page(conn, 1, offset=len(expected) - 1)[0]
            assert not last["has_more"]
            assert walk_backward(conn, limit, last["row_cursor"]) == expected[:-1]
            first = page(conn, limit)[0]
            assert page(conn, limit, before=first["row_cursor"]) == []
            assert page(conn, limit, after=last["row_cursor"]) == []


def test_cursor_walk_under_change(base):
    """A cursor is a position: the next page starts right after it even when the row it came from
    moved up, left the list or was joined by a new row before it; rows after it are not skipped."""
    conn = base
    ids = set_stats(conn, [(1, 10 - i, 0, 0) for i in range(6)])  # same score, sessions 10..5: ids[0] first
    first = page(conn, 2)
    assert [r["workshop_id"] for r in first] == ids[:2]
    assert first[0]["has_more"]
    # the last row shown gets great reviews (moves to the top), then leaves the list
    conn.execute("UPDATE workshop_stats SET review_count = 50, rating_sum = 250 WHERE workshop_id = %s", (ids[1],))
    assert [r["workshop_id"] for r in page(conn, 2, after=first[-1]["row_cursor"])] == ids[2:4]
    conn.execute("UPDATE workshop_stats SET available_mechanics = 0 WHERE workshop_id = %s", (ids[1],))
    second = page(conn, 2, after=first[-1]["row_cursor"])
    assert [r["workshop_id"] for r in second] == ids[2:4]
    # previous page from page 2: the rows before it now (ids[1] left; ids[0] remains)
    assert [r["workshop_id"] for r in page(conn, 2, before=second[0]["row_cursor"])] == [ids[0]]


BAD_CURSORS = [
    ("not a cursor!", None, 0, "starting_after"),
    ("", None, 0, "starting_after"),
    ("x" * 201, None, 0, "starting_after"),
    ("aGVsbG8", None, 0, "starting_after"),  # base64 of "hello"
    ("dzEsYSxiLGMsZA", None, 0, "starting_after"),  # "w1,a,b,c,d"
    ("dzEsMSwyLDMsbm90LWEtdXVpZA", None, 0, "starting_after"),  # "w1,1,2,3,not-a-uuid"
    ("dzEsMSwyLDMsNCw1", None, 0, "starting_after"),  # "w1,1,2,3,4,5": one part too many
    ("_w", None, 0, "starting_after"),  # not UTF-8 once decoded
    (None, "%%%", 0, "ending_before"),
    ("GOOD", "GOOD", 0, "ending_before"),
    ("GOOD", None, 20, "offset"),
    (None, "GOOD", 1, "offset"),
]


def test_bad_cursors_raise_sr400_and_good_ones_are_url_safe(base):
    conn = base
    set_stats(conn, [(1, 3, 2, 9), (2, 0, 0, 0)])
    rows = page(conn, 5)
    assert len(rows) == 2 and all(re.fullmatch(r"[A-Za-z0-9_-]+", r["row_cursor"]) for r in rows)
    good = rows[0]["row_cursor"]
    for case in BAD_CURSORS:
        after, before, offset, column = case
        after, before = (good if v == "GOOD" else v for v in (after, before))
        with pytest.raises(psycopg.Error) as exc:
            page(conn, 5, offset=offset, after=after, before=before)
        assert exc.value.diag.sqlstate == "SR400", case
        assert exc.value.diag.column_name == column, case
        assert column in exc.value.diag.message_primary, case


def test_pages_are_index_scans_without_a_sort_of_the_list(base):
    """The real plans of the function's queries (auto_explain, nested statements): the order comes from
    workshop_stats_directory_idx with a LIMIT, at a size where sorting everything would be cheaper to guess."""
    conn = base
    conn.execute(
        "INSERT INTO organizations (name, contact_email, status) "
        "SELECT 'P' || g, 'p' || g || '@example.com', CASE WHEN g % 10 = 0 THEN 'suspended' ELSE 'active' END "
        "FROM generate_series(1, 3000) AS g"
    )
    conn.execute(
        "UPDATE workshop_stats SET total_mechanics = 2, active_mechanics = 2, available_mechanics = 1 + (hashtext(workshop_id::text) & 1), "
        "sessions_served = hashtext(workshop_id::text) & 7, review_count = 4, rating_sum = 4 + (hashtext(workshop_id::text) & 15)"
    )
    conn.execute("ANALYZE workshop_stats, organizations")
    plans = []
    conn.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    conn.execute("LOAD 'auto_explain'")
    conn.execute("SET auto_explain.log_min_duration = 0")
    conn.execute("SET auto_explain.log_nested_statements = on")
    conn.execute("SET client_min_messages = log")
    try:
        mid = page(conn, 20, offset=1500)
        plans.clear()
        first = page(conn, 20)
        page(conn, 20, after=mid[-1]["row_cursor"])
        page(conn, 20, before=mid[0]["row_cursor"])
    finally:
        conn.execute("RESET client_min_messages")
    assert len(first) == 20
    queries = [p for p in plans if "workshop_directory_listing" in p or "workshop_stats" in p]
    assert len(queries) == 3, plans
    for p in queries:
        assert "workshop_stats_directory_idx" in p, p
        assert "Seq Scan on workshop_stats" not in p, p
        for m in re.finditer(r"Sort  \(cost=[^)]*rows=(\d+)", p):
            assert int(m.group(1)) <= 21 * 2, p  # sorting the page only, never the list
