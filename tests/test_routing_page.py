"""get_mechanics_for_routing_page: keyset pages of get_mechanics_for_routing (same rows, same order),
flat in the number of available mechanics (index mechanics_routing_order_idx), bad input refused."""

from __future__ import annotations

import random

import psycopg
import pytest

from tests.dbutil import as_user
from tests.test_routing_world import add_mechanic, build_world, expect_error

PAGE = "SELECT mechanic_id, priority_score, workshop_id, is_preferred, rating FROM get_mechanics_for_routing_page"
ARGS = "(%s::uuid, %s, %s::integer, %s::integer, %s::numeric, %s::uuid)"
FULL = "SELECT mechanic_id, priority_score, workshop_id, is_preferred FROM get_mechanics_for_routing(%s, %s)"


@pytest.fixture
def market(conn):
    """The routing world plus 6 more workshops and ~150 available mechanics with ties and missing
    ratings, a few at capacity (not offerable) and a few of a suspended workshop."""
    w = build_world(conn)
    rnd = random.Random(7)
    shops = [conn.execute("INSERT INTO organizations (name, contact_email, status) VALUES (%s, %s, 'active') "
                          "RETURNING id", (f"Shop {i}", f"shop{i}@ws.example")).fetchone()[0] for i in range(6)]
    for i in range(150):
        ws = rnd.choice([*shops, w.ws["alpha"], w.ws["beta"], w.ws["shady"], None, None])
        mid = add_mechanic(conn, f"x{i}", ws)
        rating = rnd.choice([None, 0, 3.5, 4.2, 4.2, 5, round(rnd.uniform(0, 5), 2)])
        conn.execute("UPDATE mechanics SET rating = %s, capacity = 1, open_sessions = %s WHERE id = %s",
                     (rating, 1 if i % 17 == 0 else 0, mid))
    conn.execute("ANALYZE mechanics")
    return w


def full(conn, wid, routing_type):
    return [tuple(r) for r in conn.execute(FULL, (wid, routing_type)).fetchall()]


def pages(conn, wid, routing_type, limit):
    """Every page from the first, each after the last row of the one before."""
    out, after = [], (None, None, None)
    for _ in range(1000):
        rows = conn.execute(PAGE + ARGS, (wid, routing_type, limit, *after)).fetchall()
        assert len(rows) <= limit
        out.append([tuple(r) for r in rows])
        if len(rows) < limit:
            return out
        last = rows[-1]
        after = (last[1], last[4], last[0])
    raise AssertionError("no end")


CHOICES = [("alpha", "hybrid"), ("beta", "hybrid"), ("alpha", "workshop_only"), (None, "broadcast"),
           ("alpha", "broadcast"), ("empty", "hybrid")]


@pytest.mark.parametrize(("workshop", "routing_type"), CHOICES)
@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
def test_pages_concatenated_are_the_full_list_in_its_order(conn, market, workshop, routing_type, limit):
    wid = market.ws[workshop] if workshop else None
    expected = full(conn, wid, routing_type)
    got = pages(conn, wid, routing_type, limit)
    flat = [r[:4] for page in got for r in page]
    assert flat == expected
    # the first page is the full list's first k
    assert [r[:4] for r in got[0]] == expected[:limit]
    # the rating returned is the mechanic's
    ratings = dict(conn.execute("SELECT id, rating FROM mechanics").fetchall())
    assert all(r[4] == ratings[r[0]] for page in got for r in page)


def test_keyset_continues_from_the_cursor_when_rows_change_before_it(conn, market):
    """A page after a cursor is what follows the cursor's position now: a mechanic going away
    before the cursor moves nothing after it; one going away after it is no longer listed."""
    wid = market.ws["alpha"]
    first = conn.execute(PAGE + "(%s, 'hybrid', 10)", (wid,)).fetchall()
    last = first[-1]
    before = full(conn, wid, "hybrid")
    cut = [r[0] for r in before].index(last[0]) + 1
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE id = %s", (first[3][0],))
    gone_after = before[cut + 2][0]
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE id = %s", (gone_after,))
    nxt = conn.execute(PAGE + "(%s, 'hybrid', 10, %s, %s, %s)", (wid, last[1], last[4], last[0])).fetchall()
    assert [r[0] for r in nxt] == [r[0] for r in before[cut:] if r[0] != gone_after][:10]


def test_cursor_of_a_mechanic_without_rating(conn, market):
    wid = market.ws["alpha"]
    rows = full(conn, wid, "hybrid")
    ratings = dict(conn.execute("SELECT id, rating FROM mechanics").fetchall())
    i = next(i for i, r in enumerate(rows) if ratings[r[0]] is None and i + 1 < len(rows))
    nxt = conn.execute(PAGE + "(%s, 'hybrid', 5, %s, NULL, %s)", (wid, rows[i][1], rows[i][0])).fetchall()
    assert [tuple(r[:4]) for r in nxt] == rows[i + 1:i + 6]


@pytest.mark.parametrize(
    ("args", "column"),
    [
        ((None, "hybrid", 10, None, None, None), "workshop_id"),
        (("alpha", "nearest", 10, None, None, None), "routing_type"),
        (("alpha", "hybrid", 0, None, None, None), "limit"),
        (("alpha", "hybrid", 1001, None, None, None), "limit"),
        (("alpha", "hybrid", None, None, None, None), "limit"),
        (("alpha", "hybrid", 10, 50, None, None), "after"),
        (("alpha", "hybrid", 10, None, None, "00000000-0000-4000-8000-000000000001"), "after"),
        (("alpha", "hybrid", 10, None, 4.5, None), "after"),
    ],
)
def test_bad_input_is_refused_clearly(conn, market, args, column):
    wid = market.ws[args[0]] if args[0] else None
    expect_error(conn, "SR400", PAGE + ARGS, (wid, *args[1:]), column)


def test_unknown_or_suspended_workshop_is_not_found(conn, market):
    expect_error(conn, "SR404", PAGE + "(%s, 'hybrid', 10)", (market.ws["shady"],), "workshop_id")
    expect_error(conn, "SR404", PAGE + "(%s, 'hybrid', 10)", ("9d0c6a44-0000-4000-8000-000000000000",), "workshop_id")


def test_app_login_may_call_it(db_url, conn, market):
    conn.commit()
    with psycopg.connect(as_user(db_url)) as app:
        rows = app.execute(PAGE + "(%s, 'hybrid', 3)", (market.ws["alpha"],)).fetchall()
    assert [r[:4] for r in rows] == full(conn, market.ws["alpha"], "hybrid")[:3]


def test_deep_pages_read_the_index_from_the_cursor(conn, market):
    """The plan of every tier is a range scan of mechanics_routing_order_idx from the cursor (or of
    the workshop's index for the preferred tier), so a page's cost does not grow with its depth."""
    conn.execute("LOAD 'auto_explain'")
    conn.execute("SET auto_explain.log_min_duration = 0")
    conn.execute("SET auto_explain.log_nested_statements = on")
    conn.execute("SET client_min_messages = log")
    conn.execute("SET auto_explain.log_level = notice")
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    rows = full(conn, market.ws["alpha"], "hybrid")
    last = rows[len(rows) // 2]
    rating = conn.execute("SELECT rating FROM mechanics WHERE id = %s", (last[0],)).fetchone()[0]
    notices.clear()
    conn.execute("SET enable_seqscan = off")  # the small test table would be read whole otherwise
    conn.execute(PAGE + "(%s, 'hybrid', 5, %s, %s, %s)", (market.ws["alpha"], last[1], rating, last[0])).fetchall()
    plan = next(n for n in notices if "WITH tiers" in n)
    assert plan.count("mechanics_routing_order_idx") == 2, plan
    assert "ROW((- COALESCE(rating, '-1'::numeric)), id) >" in plan
    assert "((workshop_id IS NULL))::integer = 0" in plan and "((workshop_id IS NULL))::integer = 1" in plan
