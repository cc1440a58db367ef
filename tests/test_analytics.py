"""Analytics views: figures equal hand-computed values on a small crafted marketplace;
the rollups they read follow every change through ssr_private.refresh_analytics(); every column documented.

The data set (all times UTC, March 2026: Monday 2nd, Wednesday 4th, Tuesday 10th;
April 1st is a Wednesday of the week starting Monday March 30th):

  req  created             type           preferred  status     by (workshop)  accept  session (status, amount)      review
  R1   03-02 10:00         hybrid         Alpha      accepted   m1 (Alpha)     10 s    S1 completed 1000 usd         5
  R2   03-02 11:00         hybrid         Alpha      accepted   m4 (indep.)    40 s    S2 completed 1000 usd         -    escalated
  R3   03-02 12:00         workshop_only  Alpha      expired    -              -       S3 refunded, nobody           -
  R4   03-02 23:30         broadcast      -          accepted   m2 (Alpha)     20 s    S4 completed 2000 eur         3
  R5   03-04 09:00         workshop_only  Alpha      accepted   m1 (Alpha)     30 s    S5 refunded 1000 usd          1
  R6   03-04 10:00         hybrid         Alpha      cancelled  -              -       S6 cancelled, nobody          -
  R7   03-10 09:00         hybrid         Beta       accepted   m1 (Alpha)     50 s    S7 completed 1000 usd         -
  R8   04-01 08:00         broadcast      -          accepted   m3 (Beta)      60 s    S8 completed 1000 usd         4
  R9   03-02 14:00         broadcast      -          pending    -              -       (no session)                  -
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

ALPHA = uuid.UUID("00000000-0000-4000-a000-0000000000a1")
BETA = uuid.UUID("00000000-0000-4000-a000-0000000000b2")
CUSTOMER = uuid.UUID("00000000-0000-4000-a000-0000000000c1")
M = {i: uuid.UUID(f"00000000-0000-4000-a000-00000000000{i}") for i in range(1, 5)}

# name: (created, routing_type, preferred, status, mechanic, accept seconds, session status, plan, review)
REQUESTS = {
    "R1": ("2026-03-02 10:00", "hybrid", ALPHA, "accepted", 1, 10, "completed", "p_usd", 5),
    "R2": ("2026-03-02 11:00", "hybrid", ALPHA, "accepted", 4, 40, "completed", "p_usd", None),
    "R3": ("2026-03-02 12:00", "workshop_only", ALPHA, "expired", None, None, "refunded", "p_usd", None),
    "R4": ("2026-03-02 23:30", "broadcast", None, "accepted", 2, 20, "completed", "p_eur", 3),
    "R5": ("2026-03-04 09:00", "workshop_only", ALPHA, "accepted", 1, 30, "refunded", "p_usd", 1),
    "R6": ("2026-03-04 10:00", "hybrid", ALPHA, "cancelled", None, None, "cancelled", "p_usd", None),
    "R7": ("2026-03-10 09:00", "hybrid", BETA, "accepted", 1, 50, "completed", "p_usd", None),
    "R8": ("2026-04-01 08:00", "broadcast", None, "accepted", 3, 60, "completed", "p_usd", 4),
    "R9": ("2026-03-02 14:00", "broadcast", None, "pending", None, None, None, "p_usd", None),
}
MECHANIC_WORKSHOP = {1: ALPHA, 2: ALPHA, 3: BETA, 4: None}


def load_crafted(conn) -> None:
    conn.execute(
        "INSERT INTO organizations (id, name, contact_email, status) VALUES "
        "(%s, 'Alpha', 'a@example.com', 'active'), (%s, 'Beta', 'b@example.com', 'active')",
        (ALPHA, BETA),
    )
    for i, w in MECHANIC_WORKSHOP.items():
        conn.execute(
            "INSERT INTO mechanics (id, workshop_id, name, email) VALUES (%s, %s, 'M', %s)", (M[i], w, f"m{i}@example.com")
        )
    conn.execute("INSERT INTO customers (id, email) VALUES (%s, 'c@example.com')", (CUSTOMER,))
    conn.execute(
        "INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES "
        "('p_usd', 'USD', 1000, 'usd', 15), ('p_eur', 'EUR', 2000, 'eur', 15)"
    )
    for name, (created, rtype, preferred, status, mech, secs, s_status, plan, rating) in REQUESTS.items():
        created_at = dt.datetime.fromisoformat(created).replace(tzinfo=dt.UTC)
        accepted_at = created_at + dt.timedelta(seconds=secs) if secs is not None else None
        closed_at = created_at + dt.timedelta(minutes=10) if status in ("expired", "cancelled") else None
        mechanic_id = M[mech] if mech else None
        workshop_id = MECHANIC_WORKSHOP[mech] if mech else None
        session_id = None
        if s_status is not None:
            session_id = conn.execute(
                """
                INSERT INTO sessions (customer_id, mechanic_id, plan_code, amount_total_minor, currency, status,
                                      created_at, workshop_id, preferred_workshop_id)
                SELECT %s, %s, code, price_minor, currency, %s, %s, %s, %s FROM plans WHERE code = %s
                RETURNING id
                """,
                (CUSTOMER, mechanic_id, s_status, created_at, workshop_id, preferred, plan),
            ).fetchone()[0]
        conn.execute(
            """
            INSERT INTO session_requests (session_id, customer_id, plan_code, status, mechanic_id, created_at,
                                          accepted_at, closed_at, workshop_id, preferred_workshop_id, routing_type,
                                          escalated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                session_id, CUSTOMER, plan, status, mechanic_id, created_at, accepted_at, closed_at, workshop_id,
                preferred, rtype, created_at + dt.timedelta(seconds=30) if name == "R2" else None,
            ),
        )
        if rating is not None:
            conn.execute(
                "INSERT INTO reviews (session_id, customer_id, mechanic_id, rating) VALUES (%s, %s, %s, %s)",
                (session_id, CUSTOMER, mechanic_id, rating),
            )


@pytest.fixture
def crafted(conn):
    load_crafted(conn)
    refresh(conn)
    return conn


def refresh(conn) -> tuple:
    """Run the analytics job until the queue is empty; returns the last run's row."""
    while True:
        row = conn.execute("SELECT * FROM ssr_private.refresh_analytics()").fetchone()
        if not row[4]:  # more
            return row


def rows(conn, relation: str, key: tuple[str, ...]) -> dict:
    cur = conn.execute(f"SELECT * FROM analytics.{relation}")  # relation names are constants of this file
    cols = [d.name for d in cur.description]
    out = {}
    for r in cur.fetchall():
        d = dict(zip(cols, r, strict=True))
        k = tuple(d[c] for c in key)
        assert k not in out, f"duplicate key {k} in {relation}"
        out[k] = d
    return out


def wsa(conn, relation: str = "workshop_session_analytics") -> dict:
    return rows(conn, relation, ("workshop_name", "period_grain", "period_start"))


def D(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def check(row: dict, **expected) -> None:
    for col, want in expected.items():
        got = row[col]
        if isinstance(want, float):
            assert got == pytest.approx(want), col
        elif isinstance(want, Decimal):
            assert got == want, col
        else:
            assert got == want, col


def test_workshop_session_analytics_hand_computed(crafted):
    got = wsa(crafted)
    assert set(got) == {
        ("Alpha", "day", D("2026-03-02")),
        ("Alpha", "day", D("2026-03-04")),
        ("Alpha", "day", D("2026-03-10")),
        ("Alpha", "week", D("2026-03-02")),
        ("Alpha", "week", D("2026-03-09")),
        ("Alpha", "month", D("2026-03-01")),
        ("Beta", "day", D("2026-03-10")),
        ("Beta", "week", D("2026-03-09")),
        ("Beta", "month", D("2026-03-01")),
        ("Beta", "day", D("2026-04-01")),
        ("Beta", "week", D("2026-03-30")),
        ("Beta", "month", D("2026-04-01")),
    }
    # Alpha, Monday: S1 and S4 served (S4 at 23:30 UTC still counts on the 2nd); S1, S2, S3 preferred it;
    # of R1..R3 (all closed) only R1 was served by Alpha; usd + eur revenue does not add up; R1 10 s, R4 20 s.
    check(
        got["Alpha", "day", D("2026-03-02")],
        workshop_id=ALPHA, sessions_served=2, preferred_sessions=3, preferred_requests=3,
        preferred_requests_closed=3, preferred_served_by_self=1, preferred_self_serve_share=Decimal("0.3333"),
        revenue_minor=None, revenue_currency=None, review_count=2, avg_rating=Decimal("4.00"),
        accepted_requests=2, median_accept_seconds=15.0, p90_accept_seconds=19.0,
    )
    # Alpha, Wednesday: S5 (refunded: no revenue), R6 cancelled is not "closed" for the share.
    check(
        got["Alpha", "day", D("2026-03-04")],
        sessions_served=1, preferred_sessions=2, preferred_requests=2, preferred_requests_closed=1,
        preferred_served_by_self=1, preferred_self_serve_share=Decimal("1.0000"), revenue_minor=0,
        revenue_currency=None, review_count=1, avg_rating=Decimal("1.00"), accepted_requests=1,
        median_accept_seconds=30.0, p90_accept_seconds=30.0,
    )
    # Alpha served R7 although the customer preferred Beta.
    check(
        got["Alpha", "day", D("2026-03-10")],
        sessions_served=1, preferred_sessions=0, preferred_requests=0, preferred_requests_closed=0,
        preferred_self_serve_share=None, revenue_minor=1000, revenue_currency="usd", review_count=0,
        avg_rating=None, accepted_requests=1, median_accept_seconds=50.0, p90_accept_seconds=50.0,
    )
    # Week of March 2nd = both days: times 10, 20, 30 -> median 20, p90 20 + 0.8 * 10.
    check(
        got["Alpha", "week", D("2026-03-02")],
        sessions_served=3, preferred_sessions=5, preferred_requests=5, preferred_requests_closed=4,
        preferred_served_by_self=2, preferred_self_serve_share=Decimal("0.5000"), revenue_minor=None,
        revenue_currency=None, review_count=3, avg_rating=Decimal("3.00"), accepted_requests=3,
        median_accept_seconds=20.0, p90_accept_seconds=28.0,
    )
    check(got["Alpha", "week", D("2026-03-09")], sessions_served=1, revenue_minor=1000, revenue_currency="usd")
    # March: 10, 20, 30, 50 -> median 25, p90 at position 2.7: 30 + 0.7 * 20.
    check(
        got["Alpha", "month", D("2026-03-01")],
        sessions_served=4, preferred_sessions=5, preferred_requests=5, preferred_requests_closed=4,
        preferred_served_by_self=2, preferred_self_serve_share=Decimal("0.5000"), revenue_minor=None,
        review_count=3, avg_rating=Decimal("3.00"), accepted_requests=4, median_accept_seconds=25.0,
        p90_accept_seconds=44.0,
    )
    # Beta was preferred for R7 but did not serve it.
    check(
        got["Beta", "day", D("2026-03-10")],
        sessions_served=0, preferred_sessions=1, preferred_requests=1, preferred_requests_closed=1,
        preferred_served_by_self=0, preferred_self_serve_share=Decimal("0.0000"), revenue_minor=0,
        revenue_currency=None, accepted_requests=0, median_accept_seconds=None, p90_accept_seconds=None,
    )
    for grain, start in (("day", "2026-04-01"), ("week", "2026-03-30"), ("month", "2026-04-01")):
        check(
            got["Beta", grain, D(start)],
            sessions_served=1, preferred_sessions=0, revenue_minor=1000, revenue_currency="usd", review_count=1,
            avg_rating=Decimal("4.00"), accepted_requests=1, median_accept_seconds=60.0, p90_accept_seconds=60.0,
        )


def test_routing_effectiveness_hand_computed(crafted):
    got = rows(crafted, "routing_effectiveness", ("routing_type", "day"))
    assert set(got) == {
        ("hybrid", D("2026-03-02")),
        ("workshop_only", D("2026-03-02")),
        ("broadcast", D("2026-03-02")),
        ("workshop_only", D("2026-03-04")),
        ("hybrid", D("2026-03-04")),
        ("hybrid", D("2026-03-10")),
        ("broadcast", D("2026-04-01")),
    }
    # R1 (10 s, Alpha) and R2 (40 s, independent, escalated): p90 = 10 + 0.9 * 30, p99 = 10 + 0.99 * 30.
    check(
        got["hybrid", D("2026-03-02")],
        requests=2, accepted=2, expired=0, cancelled=0, pending=0, escalated=1, accepted_outside_preferred=1,
        median_accept_seconds=25.0, p90_accept_seconds=37.0, p99_accept_seconds=39.7,
        preferred_served_share=Decimal("0.5000"),
    )
    check(
        got["workshop_only", D("2026-03-02")],
        requests=1, accepted=0, expired=1, escalated=0, median_accept_seconds=None,
        preferred_served_share=Decimal("0.0000"),
    )
    check(
        got["broadcast", D("2026-03-02")],
        requests=2, accepted=1, pending=1, expired=0, escalated=0, accepted_outside_preferred=0,
        median_accept_seconds=20.0, p99_accept_seconds=20.0, preferred_served_share=None,
    )
    check(got["workshop_only", D("2026-03-04")], requests=1, accepted=1, preferred_served_share=Decimal("1.0000"))
    check(got["hybrid", D("2026-03-04")], requests=1, accepted=0, cancelled=1, preferred_served_share=None)
    check(
        got["hybrid", D("2026-03-10")],
        requests=1, accepted=1, accepted_outside_preferred=1, median_accept_seconds=50.0,
        preferred_served_share=Decimal("0.0000"),
    )
    check(got["broadcast", D("2026-04-01")], requests=1, accepted=1, p90_accept_seconds=60.0)


def test_periods_are_utc_whatever_the_session_time_zone(crafted):
    before_wsa = wsa(crafted)
    before_re = rows(crafted, "routing_effectiveness", ("routing_type", "day"))
    crafted.execute("SET TIME ZONE 'Pacific/Auckland'")  # R4 at 23:30 UTC is already March 3rd there
    crafted.execute("SELECT ssr_private.analytics_rollups_rebuild()")  # rollups counted in that time zone
    assert wsa(crafted) == before_wsa
    assert rows(crafted, "routing_effectiveness", ("routing_type", "day")) == before_re


def test_changes_reach_the_views_at_the_next_refresh(crafted):
    conn = crafted
    before = wsa(conn)
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    # new data: the views show it once the job ran
    conn.execute("UPDATE reviews SET rating = 2 WHERE rating = 5")
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone()[0] >= 1
    assert wsa(conn) == before
    ran, changes, workshop_days, routing_days, more = refresh(conn)
    assert (ran, more) == (True, False) and changes >= 1 and workshop_days == 1 and routing_days == 0
    after = wsa(conn)
    assert after["Alpha", "day", D("2026-03-02")]["avg_rating"] == Decimal("2.50")
    assert after["Alpha", "month", D("2026-03-01")]["avg_rating"] == Decimal("2.00")
    # a request accepted later moves its figures: R9 (pending, broadcast) taken by m3 of Beta after 90 s
    conn.execute(
        "UPDATE session_requests SET status = 'accepted', mechanic_id = %s, workshop_id = %s, "
        "accepted_at = created_at + interval '90 seconds' WHERE status = 'pending'",
        (M[3], BETA),
    )
    refresh(conn)
    re_rows = rows(conn, "routing_effectiveness", ("routing_type", "day"))
    check(re_rows["broadcast", D("2026-03-02")], requests=2, accepted=2, pending=0, median_accept_seconds=55.0)
    check(wsa(conn)["Beta", "day", D("2026-03-02")], accepted_requests=1, median_accept_seconds=90.0,
          sessions_served=0)
    # deleting a session takes its figures out (its request and review go with it)
    conn.execute("DELETE FROM sessions WHERE created_at = '2026-04-01 08:00+00'")
    refresh(conn)
    assert ("Beta", "month", D("2026-04-01")) not in wsa(conn)
    assert ("broadcast", D("2026-04-01")) not in rows(conn, "routing_effectiveness", ("routing_type", "day"))


def test_batches_and_a_concurrent_run(crafted, db_url):
    import psycopg

    conn = crafted
    before = wsa(conn)
    conn.execute("UPDATE sessions SET status = status || ''")  # no figure changes: nothing queued
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    conn.execute("UPDATE session_requests SET escalated_at = NULL WHERE escalated_at IS NOT NULL")
    conn.execute("UPDATE reviews SET rating = rating + 0 * rating")  # same stars: nothing queued
    conn.execute("UPDATE sessions SET amount_total_minor = amount_total_minor + 1")
    queued = conn.execute("SELECT count(*) FROM analytics_changes").fetchone()[0]
    assert queued == 9  # one escalation, eight sessions
    # a run in progress elsewhere: this one returns at once, takes nothing
    with psycopg.connect(db_url) as other:
        other.execute("SELECT * FROM ssr_private.refresh_analytics(1)").fetchone()
        assert conn.execute("SELECT * FROM ssr_private.refresh_analytics()").fetchone() == (False, 0, 0, 0, False)
        other.rollback()  # its batch goes back to the queue
    row = conn.execute("SELECT * FROM ssr_private.refresh_analytics(5)").fetchone()
    assert row[:2] == (True, 5) and row[4] is True
    refresh(conn)
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    after = wsa(conn)
    assert after != before
    conn.execute("SELECT ssr_private.analytics_rollups_rebuild()")
    assert wsa(conn) == after
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT * FROM ssr_private.refresh_analytics(0)")
    assert err.value.sqlstate == "SR400"


def test_truncate_rebuilds_the_rollups(crafted):
    crafted.execute("TRUNCATE reviews")
    got = wsa(crafted)
    assert got["Alpha", "month", D("2026-03-01")]["review_count"] == 0
    crafted.execute("TRUNCATE sessions CASCADE")
    assert wsa(crafted) == {} and rows(crafted, "routing_effectiveness", ("routing_type", "day")) == {}


def test_percentiles_over_buckets_of_three_significant_digits(conn):
    got = conn.execute(
        "SELECT ssr_private.analytics_bucket(x) FROM unnest(ARRAY[0, 0.012345, 1.5, 12.345, 999, 1234.5, 86399.9]::float8[]) AS x"
    ).fetchall()
    assert [r[0] for r in got] == [0.0, 0.0123, 1.5, 12.3, 999.0, 1230.0, 86400.0]


ANALYTICS_RELATIONS = [
    "workshop_session_analytics",
    "routing_effectiveness",
    "analytics_changes",
    "analytics_workshop_rollup",
    "analytics_routing_rollup",
]


@pytest.mark.parametrize("relation", ANALYTICS_RELATIONS)
def test_every_view_and_column_is_documented(conn, relation):
    if relation in ("workshop_session_analytics", "routing_effectiveness"):
        relation = f"analytics.{relation}"
    assert conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (relation,)).fetchone()[0]
    undocumented = conn.execute(
        """
        SELECT a.attname FROM pg_attribute AS a
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND coalesce(col_description(a.attrelid, a.attnum), '') = ''
        """,
        (relation,),
    ).fetchall()
    assert undocumented == []


def test_demo_seed_fills_the_views(seeded_conn):
    conn = seeded_conn
    assert len(wsa(conn)) > 0
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    # the demo's 60 accepted requests, each counted once per grain
    for grain in ("day", "week", "month"):
        total = conn.execute(
            "SELECT sum(accepted_requests) FROM analytics.workshop_session_analytics WHERE period_grain = %s", (grain,)
        ).fetchone()[0]
        expected = conn.execute(
            "SELECT count(*) FROM session_requests WHERE status = 'accepted' AND workshop_id IS NOT NULL"
        ).fetchone()[0]
        assert total == expected
