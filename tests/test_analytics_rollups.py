"""The analytics rollups equal a recount: a property-based test drives random inserts,
updates (accepts, moves between workshops, refunds, escalations, re-dating) and deletes of
sessions, requests and reviews, and the session's life after accept (start, complete,
no-show, decline, cancel, refund, availability toggles and re-dated intervals), and after
each one runs the job and compares both BI views with the reference queries below: the
original from-scratch aggregation of the base tables (exact percentile_cont; live and
available time cut at UTC days, open spans up to now), written independently of the
rollup functions. Counts and minutes must be equal; percentiles within 0.5 % (the
histogram's buckets of 3 significant digits).
(One fix over the original: a day whose only preferred request was accepted by an
independent counts 0 requests served by the preferred workshop, where it summed to NULL.)
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REFERENCE_WORKSHOP = """
WITH refunded AS (
    SELECT s.preferred_workshop_id AS workshop_id, g.period_grain, g.period_start, count(*) AS refunds
    FROM refunds AS rf
    INNER JOIN sessions AS s ON rf.session_id = s.id
    CROSS JOIN LATERAL (
        VALUES
        ('day', date_trunc('day', s.created_at AT TIME ZONE 'UTC')::date),
        ('week', date_trunc('week', s.created_at AT TIME ZONE 'UTC')::date),
        ('month', date_trunc('month', s.created_at AT TIME ZONE 'UTC')::date)
    ) AS g (period_grain, period_start)
    WHERE s.preferred_workshop_id IS NOT NULL
    GROUP BY 1, 2, 3
),

-- The weeks and months with session or request activity: the only periods shown (spans are cut at days
-- within them).
shown AS (
    SELECT
        least(
            date_trunc('month', min(t.created_at) AT TIME ZONE 'UTC'),
            date_trunc('week', min(t.created_at) AT TIME ZONE 'UTC')
        ) AS m0,
        greatest(
            date_trunc('month', max(t.created_at) AT TIME ZONE 'UTC') + interval '1 month',
            date_trunc('week', max(t.created_at) AT TIME ZONE 'UTC') + interval '1 week'
        ) AS m1
    FROM (SELECT created_at FROM sessions UNION ALL SELECT created_at FROM session_requests) AS t
),

-- Calls (started_at to ended_at, or now while open) and availability intervals, in UTC.
all_spans AS (
    SELECT s.workshop_id, TRUE AS is_live, s.started_at AT TIME ZONE 'UTC' AS t0,
        coalesce(s.ended_at, greatest(now(), s.started_at)) AT TIME ZONE 'UTC' AS t1
    FROM sessions AS s
    WHERE s.workshop_id IS NOT NULL AND s.started_at IS NOT NULL
    UNION ALL
    SELECT a.workshop_id, FALSE, a.started_at AT TIME ZONE 'UTC',
        coalesce(a.ended_at, greatest(now(), a.started_at)) AT TIME ZONE 'UTC'
    FROM mechanic_availability AS a
    WHERE a.workshop_id IS NOT NULL
),

spans AS (
    SELECT sp.workshop_id, sp.is_live, greatest(sp.t0, w.m0) AS t0, least(sp.t1, w.m1) AS t1
    FROM all_spans AS sp, shown AS w
    WHERE sp.t0 < w.m1 AND sp.t1 > w.m0
),

span_days AS (
    SELECT sp.workshop_id, sp.is_live, dd.day,
        extract(EPOCH FROM least(sp.t1, dd.day + interval '1 day') - greatest(sp.t0, dd.day)) AS seconds
    FROM spans AS sp
    CROSS JOIN LATERAL generate_series(date_trunc('day', sp.t0), sp.t1, interval '1 day') AS dd (day)
    WHERE dd.day < sp.t1
),

life AS (
    SELECT s.workshop_id, s.created_at, s.status AS session_status, NULL::double precision AS decline_seconds,
        0::numeric AS live_seconds, 0::numeric AS available_seconds
    FROM sessions AS s
    WHERE s.workshop_id IS NOT NULL
    UNION ALL
    SELECT d.workshop_id, d.declined_at, NULL, extract(EPOCH FROM d.declined_at - d.offered_at)::double precision, 0, 0
    FROM session_request_declines AS d
    WHERE d.workshop_id IS NOT NULL
    UNION ALL
    SELECT sd.workshop_id, sd.day AT TIME ZONE 'UTC', NULL, NULL,
        CASE WHEN sd.is_live THEN sd.seconds ELSE 0 END, CASE WHEN sd.is_live THEN 0 ELSE sd.seconds END
    FROM span_days AS sd
),

lifecycle AS (
    SELECT
        f.workshop_id,
        g.period_grain,
        g.period_start,
        count(*) FILTER (WHERE f.session_status = 'waiting') AS sessions_waiting,
        count(*) FILTER (WHERE f.session_status = 'live') AS sessions_live,
        count(*) FILTER (WHERE f.session_status = 'completed') AS sessions_completed,
        count(*) FILTER (WHERE f.session_status = 'no_show') AS sessions_no_show,
        count(*) FILTER (WHERE f.session_status = 'cancelled') AS sessions_cancelled,
        count(*) FILTER (WHERE f.session_status = 'refunded') AS sessions_refunded,
        count(f.decline_seconds) AS declines,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.decline_seconds) AS median_decline_seconds,
        sum(f.live_seconds) AS live_seconds,
        sum(f.available_seconds) AS available_seconds
    FROM life AS f
    CROSS JOIN LATERAL (
        VALUES
        ('day', date_trunc('day', f.created_at AT TIME ZONE 'UTC')::date),
        ('week', date_trunc('week', f.created_at AT TIME ZONE 'UTC')::date),
        ('month', date_trunc('month', f.created_at AT TIME ZONE 'UTC')::date)
    ) AS g (period_grain, period_start)
    GROUP BY 1, 2, 3
),

facts AS (
    -- Sessions served by the workshop (with their review, if any).
    SELECT
        s.workshop_id,
        s.created_at,
        1 AS served,
        0 AS preferred_session,
        CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.amount_total_minor END AS revenue_minor,
        CASE WHEN s.status NOT IN ('cancelled', 'refunded') THEN s.currency END AS revenue_currency,
        r.rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        NULL::double precision AS accept_seconds
    FROM sessions AS s
    LEFT JOIN reviews AS r ON s.id = r.session_id
    WHERE s.workshop_id IS NOT NULL

    UNION ALL

    -- Sessions whose customer chose the workshop.
    SELECT
        s.preferred_workshop_id AS workshop_id,
        s.created_at,
        0 AS served,
        1 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        NULL::double precision AS accept_seconds
    FROM sessions AS s
    WHERE s.preferred_workshop_id IS NOT NULL

    UNION ALL

    -- Requests that named the workshop as preferred.
    SELECT
        sr.preferred_workshop_id AS workshop_id,
        sr.created_at,
        0 AS served,
        0 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        1 AS preferred_request,
        (sr.status IN ('accepted', 'expired'))::integer AS preferred_closed,
        coalesce(sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id, FALSE)::integer AS preferred_self,
        NULL::double precision AS accept_seconds
    FROM session_requests AS sr
    WHERE sr.preferred_workshop_id IS NOT NULL

    UNION ALL

    -- Requests the workshop's mechanics accepted: time to accept.
    SELECT
        sr.workshop_id,
        sr.created_at,
        0 AS served,
        0 AS preferred_session,
        NULL::integer AS revenue_minor,
        NULL::text AS revenue_currency,
        NULL::smallint AS rating,
        0 AS preferred_request,
        0 AS preferred_closed,
        0 AS preferred_self,
        extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision AS accept_seconds
    FROM session_requests AS sr
    WHERE sr.status = 'accepted' AND sr.workshop_id IS NOT NULL
),

-- One copy of each fact per grain. A BI filter on workshop_id and period_grain is
-- pushed down to the index scans of the four branches above and to this list.
agg AS (
    SELECT
        f.workshop_id,
        g.period_grain,
        g.period_start,
        sum(f.served) AS sessions_served,
        sum(f.preferred_session) AS preferred_sessions,
        sum(f.preferred_request) AS preferred_requests,
        sum(f.preferred_closed) AS preferred_requests_closed,
        sum(f.preferred_self) AS preferred_served_by_self,
        count(DISTINCT f.revenue_currency) AS currencies,
        min(f.revenue_currency) AS revenue_currency,
        coalesce(sum(f.revenue_minor), 0) AS revenue_minor,
        count(f.rating) AS review_count,
        avg(f.rating) AS avg_rating,
        count(f.accept_seconds) AS accepted_requests,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.accept_seconds) AS median_accept_seconds,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY f.accept_seconds) AS p90_accept_seconds
    FROM facts AS f
    CROSS JOIN
        LATERAL (
            VALUES
            ('day', date_trunc('day', f.created_at AT TIME ZONE 'UTC')::date),
            ('week', date_trunc('week', f.created_at AT TIME ZONE 'UTC')::date),
            ('month', date_trunc('month', f.created_at AT TIME ZONE 'UTC')::date)
        ) AS g (period_grain, period_start)
    GROUP BY f.workshop_id, g.period_grain, g.period_start
)

SELECT
    a.workshop_id,
    o.name AS workshop_name,
    a.period_grain,
    a.period_start,
    a.sessions_served,
    a.preferred_sessions,
    a.preferred_requests,
    a.preferred_requests_closed,
    a.preferred_served_by_self,
    round(a.preferred_served_by_self::numeric / nullif(a.preferred_requests_closed, 0), 4)
        AS preferred_self_serve_share,
    CASE WHEN a.currencies <= 1 THEN a.revenue_minor END AS revenue_minor,
    CASE WHEN a.currencies = 1 THEN a.revenue_currency END AS revenue_currency,
    a.review_count,
    round(a.avg_rating, 2) AS avg_rating,
    a.accepted_requests,
    a.median_accept_seconds,
    a.p90_accept_seconds,
    coalesce(f.refunds, 0) AS refunds,
    round(coalesce(f.refunds, 0)::numeric / nullif(a.preferred_sessions, 0), 4) AS refund_rate,
    coalesce(l.sessions_waiting, 0) AS sessions_waiting,
    coalesce(l.sessions_live, 0) AS sessions_live,
    coalesce(l.sessions_completed, 0) AS sessions_completed,
    coalesce(l.sessions_no_show, 0) AS sessions_no_show,
    coalesce(l.sessions_cancelled, 0) AS sessions_cancelled,
    coalesce(l.sessions_refunded, 0) AS sessions_refunded,
    coalesce(l.declines, 0) AS declines,
    l.median_decline_seconds,
    round(coalesce(l.live_seconds, 0) / 60, 2) AS live_minutes,
    round(coalesce(l.available_seconds, 0) / 60, 2) AS available_minutes,
    round(l.live_seconds / nullif(l.available_seconds, 0), 4) AS utilisation
FROM agg AS a
INNER JOIN organizations AS o ON a.workshop_id = o.id
LEFT JOIN refunded AS f
    ON a.workshop_id = f.workshop_id AND a.period_grain = f.period_grain AND a.period_start = f.period_start
LEFT JOIN lifecycle AS l
    ON a.workshop_id = l.workshop_id AND a.period_grain = l.period_grain AND a.period_start = l.period_start
"""

REFERENCE_ROUTING = """
WITH declined AS (
    SELECT
        dr.routing_type,
        date_trunc('day', dr.created_at AT TIME ZONE 'UTC')::date AS day,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM d.declined_at - d.offered_at)::double precision
        ) AS median_decline_seconds
    FROM session_request_declines AS d
    INNER JOIN session_requests AS dr ON d.request_id = dr.id
    GROUP BY 1, 2
),

base AS (
    SELECT
        sr.routing_type,
        date_trunc('day', sr.created_at AT TIME ZONE 'UTC')::date AS day,
        count(*) AS requests,
        count(*) FILTER (WHERE sr.status = 'accepted') AS accepted,
        count(*) FILTER (WHERE sr.status = 'expired') AS expired,
        count(*) FILTER (WHERE sr.status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE sr.status = 'pending') AS pending,
        count(*) FILTER (WHERE sr.escalated_at IS NOT NULL) AS escalated,
        count(*) FILTER (
            WHERE sr.status = 'accepted' AND sr.preferred_workshop_id IS NOT NULL
            AND sr.workshop_id IS DISTINCT FROM sr.preferred_workshop_id
        ) AS accepted_outside_preferred,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
        ) AS median_accept_seconds,
        percentile_cont(0.9) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
        ) AS p90_accept_seconds,
        percentile_cont(0.99) WITHIN GROUP (
            ORDER BY extract(EPOCH FROM sr.accepted_at - sr.created_at)::double precision
        ) AS p99_accept_seconds,
        round(
            (count(*) FILTER (WHERE sr.status = 'accepted' AND sr.workshop_id = sr.preferred_workshop_id))::numeric
            / nullif(count(*) FILTER (WHERE sr.preferred_workshop_id IS NOT NULL AND sr.status IN ('accepted', 'expired')), 0),
            4
        ) AS preferred_served_share,
        count(rf.id) AS refunds,
        round(count(rf.id)::numeric / count(DISTINCT sr.id), 4) AS refund_rate,
        coalesce(sum(cardinality(sr.declined_by)), 0) AS declines,
        count(*) FILTER (WHERE cardinality(sr.declined_by) > 0) AS declined_requests,
        count(*) FILTER (WHERE s.status = 'waiting' AND sr.status = 'accepted') AS sessions_waiting,
        count(*) FILTER (WHERE s.status = 'live') AS sessions_live,
        count(*) FILTER (WHERE s.status = 'completed') AS sessions_completed,
        count(*) FILTER (WHERE s.status = 'no_show') AS sessions_no_show
    FROM session_requests AS sr
    LEFT JOIN sessions AS s ON sr.session_id = s.id
    -- at most one refund per request here (one purchase each): the join does not repeat requests
    LEFT JOIN refunds AS rf ON rf.session_request_id = sr.id
    GROUP BY 1, 2
)

SELECT b.*, d.median_decline_seconds
FROM base AS b
LEFT JOIN declined AS d ON b.routing_type = d.routing_type AND b.day = d.day
"""

# The lifecycle figures of the workshop rollup for every period with any of them: closed spans only (the
# view adds the open ones at read time), from the base tables.
REFERENCE_LIFECYCLE = """
WITH spans AS (
    SELECT s.workshop_id, TRUE AS is_live, s.started_at AT TIME ZONE 'UTC' AS t0, s.ended_at AT TIME ZONE 'UTC' AS t1
    FROM sessions AS s
    WHERE s.workshop_id IS NOT NULL AND s.started_at IS NOT NULL AND s.ended_at IS NOT NULL
    UNION ALL
    SELECT a.workshop_id, FALSE, a.started_at AT TIME ZONE 'UTC', a.ended_at AT TIME ZONE 'UTC'
    FROM mechanic_availability AS a
    WHERE a.workshop_id IS NOT NULL AND a.ended_at IS NOT NULL
),

span_days AS (
    SELECT sp.workshop_id, sp.is_live, dd.day,
        extract(EPOCH FROM least(sp.t1, dd.day + interval '1 day') - greatest(sp.t0, dd.day)) AS seconds
    FROM spans AS sp
    CROSS JOIN LATERAL generate_series(date_trunc('day', sp.t0), sp.t1, interval '1 day') AS dd (day)
    WHERE dd.day < sp.t1
),

life AS (
    SELECT s.workshop_id, s.created_at, s.status AS session_status, NULL::double precision AS decline_seconds,
        0::numeric AS live_seconds, 0::numeric AS available_seconds, 0::bigint AS refunds
    FROM sessions AS s
    WHERE s.workshop_id IS NOT NULL
    UNION ALL
    SELECT d.workshop_id, d.declined_at, NULL, extract(EPOCH FROM d.declined_at - d.offered_at)::double precision, 0, 0, 0
    FROM session_request_declines AS d
    WHERE d.workshop_id IS NOT NULL
    UNION ALL
    SELECT sd.workshop_id, sd.day AT TIME ZONE 'UTC', NULL, NULL,
        CASE WHEN sd.is_live THEN sd.seconds ELSE 0 END, CASE WHEN sd.is_live THEN 0 ELSE sd.seconds END, 0
    FROM span_days AS sd
    UNION ALL
    SELECT s.preferred_workshop_id, s.created_at, NULL, NULL, 0, 0, 1
    FROM refunds AS rf
    INNER JOIN sessions AS s ON rf.session_id = s.id
    WHERE s.preferred_workshop_id IS NOT NULL
)

SELECT
    f.workshop_id,
    g.period_grain,
    g.period_start,
    count(*) FILTER (WHERE f.session_status = 'waiting') AS sessions_waiting,
    count(*) FILTER (WHERE f.session_status = 'live') AS sessions_live,
    count(*) FILTER (WHERE f.session_status = 'completed') AS sessions_completed,
    count(*) FILTER (WHERE f.session_status = 'no_show') AS sessions_no_show,
    count(*) FILTER (WHERE f.session_status = 'cancelled') AS sessions_cancelled,
    count(*) FILTER (WHERE f.session_status = 'refunded') AS sessions_refunded,
    sum(f.refunds) AS refunds,
    count(f.decline_seconds) AS declines,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY f.decline_seconds) AS median_decline_seconds,
    sum(f.live_seconds) AS live_seconds,
    sum(f.available_seconds) AS available_seconds
FROM life AS f
CROSS JOIN LATERAL (
    VALUES
    ('day', date_trunc('day', f.created_at AT TIME ZONE 'UTC')::date),
    ('week', date_trunc('week', f.created_at AT TIME ZONE 'UTC')::date),
    ('month', date_trunc('month', f.created_at AT TIME ZONE 'UTC')::date)
) AS g (period_grain, period_start)
GROUP BY 1, 2, 3
"""
LIFECYCLE_COLUMNS = ("sessions_waiting", "sessions_live", "sessions_completed", "sessions_no_show", "sessions_cancelled",
                     "sessions_refunded", "refunds", "declines", "median_decline_seconds", "live_seconds",
                     "available_seconds")

CUSTOMER = uuid.UUID("00000000-0000-4000-9000-0000000000c1")
T0 = dt.datetime(2026, 2, 26, 22, 0, tzinfo=dt.UTC)  # a Thursday night: weeks and a month end nearby
PERCENTILES = ("median_accept_seconds", "p90_accept_seconds", "p99_accept_seconds", "median_decline_seconds")


def keyed(conn, sql: str, key: tuple[str, ...]) -> dict:
    cur = conn.execute(sql)
    cols = [d.name for d in cur.description]
    out = {}
    for r in cur.fetchall():
        d = dict(zip(cols, r, strict=True))
        out[tuple(d[c] for c in key)] = d
    return out


def assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for k, row in want.items():
        for col, value in row.items():
            if col in PERCENTILES and value is not None:
                assert got[k][col] == pytest.approx(value, rel=0.005), (k, col)
            else:
                assert got[k][col] == value, (k, col)


ROLLUP_TABLES = ("analytics_workshop_rollup", "analytics_routing_rollup", "analytics_span_days")


def rollup_rows(conn) -> dict:
    return {t: sorted((tuple(r) for r in conn.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
            for t in ROLLUP_TABLES}


def assert_rollup_rows_equal_rebuild(conn) -> None:
    """Every row of the rollups (also the periods the views do not show) equals a recount from scratch."""
    kept = rollup_rows(conn)
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT ssr_private.analytics_rollups_rebuild()")
        recounted = rollup_rows(conn)
    for t in ROLLUP_TABLES:
        assert kept[t] == recounted[t], t


def assert_lifecycle_rollup_equals_reference(conn) -> None:
    """The lifecycle figures of every period of the workshop rollup (the views show only the periods with
    session or request activity) equal the reference: closed spans cut at days, declines, statuses, refunds."""
    got = keyed(conn, "SELECT * FROM analytics_workshop_rollup", ("workshop_id", "period_grain", "period_start"))
    want = keyed(conn, REFERENCE_LIFECYCLE, ("workshop_id", "period_grain", "period_start"))
    for k in set(got) | set(want):
        for col in LIFECYCLE_COLUMNS:
            g = got[k][col] if k in got else None
            w = want[k][col] if k in want else None
            if col == "median_decline_seconds" and w is not None:
                assert g == pytest.approx(w, rel=0.005), (k, col)
            elif col != "median_decline_seconds":
                assert (g or 0) == (w or 0), (k, col)
            else:
                assert g is None, (k, col)


def assert_rollups_equal_recount(conn) -> None:
    while conn.execute("SELECT * FROM ssr_private.refresh_analytics()").fetchone()[4]:
        pass
    assert conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    assert_lifecycle_rollup_equals_reference(conn)
    # One transaction, so one now(): the views and the reference count the spans open right now
    # (a mechanic available, a call live) up to the same instant, not to two statements' clocks.
    with conn.transaction():
        workshop_view = keyed(conn, "SELECT * FROM analytics.workshop_session_analytics",
                              ("workshop_id", "period_grain", "period_start"))
        workshop_reference = keyed(conn, REFERENCE_WORKSHOP, ("workshop_id", "period_grain", "period_start"))
        routing_view = keyed(conn, "SELECT * FROM analytics.routing_effectiveness", ("routing_type", "day"))
        routing_reference = keyed(conn, REFERENCE_ROUTING, ("routing_type", "day"))
    assert_same(workshop_view, workshop_reference)
    assert_same(routing_view, routing_reference)


def setup_world(conn) -> tuple[list, list]:
    conn.execute("INSERT INTO customers (id, email) VALUES (%s, 'rollup@example.com')", (CUSTOMER,))
    conn.execute(
        "INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES "
        "('pu', 'U', 500, 'usd', 15), ('pe', 'E', 700, 'eur', 15)"
    )
    workshops = [
        conn.execute(
            "INSERT INTO organizations (name, contact_email) VALUES (%s, %s) RETURNING id", (f"W{i}", f"w{i}@example.com")
        ).fetchone()[0]
        for i in range(3)
    ]
    mechanics = [
        conn.execute(
            "INSERT INTO mechanics (name, email, workshop_id, is_available) VALUES ('M', %s, %s, TRUE) RETURNING id",
            (f"m{i}@example.com", workshops[i] if i < 3 else None),
        ).fetchone()[0]
        for i in range(4)
    ]
    return workshops, mechanics


def pick(conn, sql: str, k: int, params: tuple = ()):
    ids = [r[0] for r in conn.execute(sql, params).fetchall()]
    return ids[k % len(ids)] if ids else None


def apply_op(conn, world, op: str, a: int, b: int) -> None:
    workshops, mechanics = world
    when = T0 + dt.timedelta(hours=(a * 7) % 200, seconds=b % 60)
    if op == "request":  # a paid session (its purchase: a refund follows an expiry) and its request, pending
        preferred = workshops[a % 3] if b % 3 else None
        rtype = "broadcast" if preferred is None else ["hybrid", "workshop_only"][b % 2]
        plan = ["pu", "pe"][a % 2]
        cs = f"cs_rollup_{uuid.uuid4().hex}"
        sid = conn.execute(
            "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency, created_at, "
            "preferred_workshop_id, stripe_checkout_session_id) SELECT %s, code, price_minor, currency, %s, %s, %s "
            "FROM plans WHERE code = %s RETURNING id",
            (CUSTOMER, when, preferred, cs, plan),
        ).fetchone()[0]
        rid = conn.execute(
            "INSERT INTO session_requests (session_id, customer_id, plan_code, created_at, preferred_workshop_id, "
            "routing_type) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (sid, CUSTOMER, plan, when, preferred, rtype),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO checkout_purchases (customer_id, customer_email, plan_code, amount_minor, currency, "
            "preferred_workshop_id, routing_type, stripe_checkout_session_id, session_id, session_request_id, status, "
            "fulfilled_at) SELECT %s, 'rollup@example.com', code, price_minor, currency, %s, %s, %s, %s, %s, "
            "'fulfilled', now() FROM plans WHERE code = %s",
            (CUSTOMER, preferred, rtype, cs, sid, rid, plan),
        )
    elif op == "orphan_request":  # a request without a session, e.g. expired before payment
        conn.execute(
            "INSERT INTO session_requests (customer_id, plan_code, created_at, routing_type, status, closed_at) "
            "VALUES (%s, 'pu', %s, 'broadcast', %s, %s)",
            (CUSTOMER, when, ["pending", "expired", "cancelled"][b % 3], None if b % 3 == 0 else when),
        )
    elif op == "accept":  # by a mechanic of some workshop or an independent, after a fractional delay
        r = pick(conn, "SELECT id FROM session_requests WHERE status = 'pending' ORDER BY id", a)
        if r is not None:
            m = mechanics[b % 4]
            secs = (b % 997) / 7.0 + (a % 5) * 100
            conn.execute(
                "UPDATE session_requests SET status = 'accepted', mechanic_id = %s, "
                "accepted_at = created_at + make_interval(secs => %s) WHERE id = %s",
                (m, secs, r),
            )
    elif op == "expire":
        r = pick(conn, "SELECT id FROM session_requests WHERE status = 'pending' ORDER BY id", a)
        if r is not None:
            conn.execute(
                "UPDATE session_requests SET status = ['expired', 'cancelled'][1 + %s %% 2], closed_at = created_at "
                "WHERE id = %s".replace("['expired', 'cancelled']", "(ARRAY['expired', 'cancelled'])"),
                (b, r),
            )
    elif op == "escalate":
        r = pick(conn, "SELECT id FROM session_requests WHERE routing_type = 'hybrid' ORDER BY id", a)
        if r is not None:
            conn.execute("UPDATE session_requests SET escalated_at = created_at + interval '1 minute' WHERE id = %s", (r,))
    elif op == "session_status":
        s = pick(conn, "SELECT id FROM sessions WHERE mechanic_id IS NOT NULL ORDER BY id", a)
        if s is not None:
            conn.execute("UPDATE sessions SET status = (ARRAY['completed', 'refunded', 'cancelled'])[1 + %s %% 3] "
                         "WHERE id = %s", (b, s))
    elif op == "move_session":  # served by another workshop (revenue split corrected), or re-dated
        s = pick(conn, "SELECT id FROM sessions ORDER BY id", a)
        if s is not None:
            if b % 2:
                conn.execute("UPDATE sessions SET workshop_id = %s WHERE id = %s", (workshops[b % 3], s))
            else:
                conn.execute("UPDATE sessions SET created_at = created_at + interval '1 day' WHERE id = %s", (s,))
    elif op == "move_request":
        r = pick(conn, "SELECT id FROM session_requests ORDER BY id", a)
        if r is not None:
            conn.execute("UPDATE session_requests SET created_at = created_at - interval '23 hours', "
                         "accepted_at = accepted_at - interval '23 hours' WHERE id = %s", (r,))
    elif op == "review":
        s = pick(conn, "SELECT s.id FROM sessions AS s WHERE s.mechanic_id IS NOT NULL AND NOT EXISTS "
                       "(SELECT 1 FROM reviews AS v WHERE v.session_id = s.id) ORDER BY s.id", a)
        if s is not None:
            conn.execute("INSERT INTO reviews (session_id, customer_id, mechanic_id, rating) "
                         "SELECT id, customer_id, mechanic_id, %s FROM sessions WHERE id = %s", (1 + b % 5, s))
    elif op == "review_change":
        v = pick(conn, "SELECT id FROM reviews ORDER BY id", a)
        if v is not None:
            if b % 2:
                conn.execute("UPDATE reviews SET rating = 1 + (rating + %s) %% 5 WHERE id = %s", (b % 4, v))
            else:
                conn.execute("DELETE FROM reviews WHERE id = %s", (v,))
    elif op == "delete_session":  # its request and review go with it
        s = pick(conn, "SELECT s.id FROM sessions AS s WHERE NOT EXISTS (SELECT 1 FROM routing_events AS e "
                       "JOIN session_requests AS r ON r.id = e.request_id WHERE r.session_id = s.id) "
                       "AND NOT EXISTS (SELECT 1 FROM refunds AS f WHERE f.session_id = s.id) ORDER BY s.id", a)
        if s is not None:
            conn.execute("DELETE FROM sessions WHERE id = %s", (s,))
    elif op in LIFECYCLE_OPS:
        LIFECYCLE_OPS[op](conn, world, a, b)
    elif op == "refresh":
        conn.execute("SELECT * FROM ssr_private.refresh_analytics(%s)", (1 + b % 7,))
    else:  # pragma: no cover
        raise AssertionError(op)


def op_start(conn, world, a, b) -> None:  # the call starts some hours after the session was created
    s = pick(conn, "SELECT id FROM sessions WHERE status = 'waiting' AND mechanic_id IS NOT NULL ORDER BY id", a)
    if s is not None:
        conn.execute("UPDATE sessions SET status = 'live', started_at = created_at + make_interval(hours => %s, "
                     "secs => %s) WHERE id = %s", (b % 50, a % 60 + 0.25, s))


def op_complete(conn, world, a, b) -> None:  # ends after minutes to a day and more (across UTC days)
    s = pick(conn, "SELECT id FROM sessions WHERE status = 'live' ORDER BY id", a)
    if s is not None:
        conn.execute("UPDATE sessions SET status = 'completed', ended_at = started_at + make_interval(hours => %s, "
                      "secs => %s) WHERE id = %s", (b % 40, a + 0.5, s))


def op_no_show(conn, world, a, b) -> None:
    s = pick(conn, "SELECT id FROM sessions WHERE status = 'waiting' AND mechanic_id IS NOT NULL ORDER BY id", a)
    if s is not None:
        conn.execute("UPDATE sessions SET status = 'no_show', ended_at = created_at + interval '1 hour' WHERE id = %s",
                     (s,))


def op_decline(conn, world, a, b) -> None:  # by a mechanic of some workshop or an independent
    _workshops, mechanics = world
    m = mechanics[b % 4]
    r = pick(conn, "SELECT id FROM session_requests WHERE status = 'pending' AND NOT %s = ANY(declined_by) ORDER BY id",
             a, (m,))
    if r is not None:
        conn.execute(
            "INSERT INTO session_request_declines (request_id, mechanic_id, workshop_id, offered_at, declined_at) "
            "SELECT r.id, m.id, m.workshop_id, r.created_at, r.created_at + make_interval(hours => %s, secs => %s) "
            "FROM session_requests AS r, mechanics AS m WHERE r.id = %s AND m.id = %s",
            (a % 30, (b % 997) / 7.0, r, m),
        )


def op_decline_change(conn, world, a, b) -> None:  # re-dated (another day) or withdrawn
    d = pick(conn, "SELECT request_id::text || ' ' || mechanic_id::text FROM session_request_declines ORDER BY 1", a)
    if d is not None:
        rid, mid = d.split()
        if b % 2:
            conn.execute("UPDATE session_request_declines SET declined_at = declined_at + interval '25 hours' "
                         "WHERE request_id = %s AND mechanic_id = %s", (rid, mid))
        else:
            conn.execute("DELETE FROM session_request_declines WHERE request_id = %s AND mechanic_id = %s", (rid, mid))


def op_cancel(conn, world, a, b) -> None:  # the customer cancels before anyone accepted: refund owed
    r = pick(conn, "SELECT id FROM session_requests WHERE status = 'pending' AND session_id IS NOT NULL ORDER BY id", a)
    if r is not None:
        conn.execute("UPDATE session_requests SET status = 'cancelled', closed_at = created_at WHERE id = %s", (r,))


def op_refund_withdrawn(conn, world, a, b) -> None:
    f = pick(conn, "SELECT id FROM refunds ORDER BY id", a)
    if f is not None:
        conn.execute("DELETE FROM refunds WHERE id = %s", (f,))


def op_availability(conn, world, a, b) -> None:
    """A mechanic's toggle: the presence trigger opens an interval now, or closes the open one now; mostly the
    open one is first ended some hours after it began (near the requests' days), then the toggle finds it closed
    (an interval re-dated to those days is always ended so: the reference cuts closed spans at every day)."""
    _workshops, mechanics = world
    m = mechanics[b % 4]
    conn.execute("UPDATE mechanic_availability SET ended_at = started_at + make_interval(hours => %s, secs => %s) "
                 "WHERE mechanic_id = %s AND ended_at IS NULL AND (%s OR started_at < now() - interval '1 day')",
                 (a % 50, b + 0.5, m, a % 4 > 0))
    conn.execute("UPDATE mechanics SET is_available = NOT is_available WHERE id = %s", (m,))


def op_availability_past(conn, world, a, b) -> None:
    """An interval re-dated near the requests' days: an open one began then (open up to now, read at query time),
    a closed one lasted minutes to days (cut at UTC days into the rollup)."""
    i = pick(conn, "SELECT id FROM mechanic_availability ORDER BY id", a)
    if i is not None:
        start = T0 + dt.timedelta(hours=b % 200, seconds=a + 0.125)
        conn.execute("UPDATE mechanic_availability SET started_at = %s, ended_at = CASE WHEN ended_at IS NOT NULL "
                     "THEN %s END WHERE id = %s", (start, start + dt.timedelta(hours=a % 60, seconds=b), i))


LIFECYCLE_OPS = {
    "start": op_start, "complete": op_complete, "no_show": op_no_show, "decline": op_decline,
    "decline_change": op_decline_change, "cancel": op_cancel, "refund_withdrawn": op_refund_withdrawn,
    "availability": op_availability, "availability_past": op_availability_past,
}

OPS = ["request", "request", "request", "orphan_request", "accept", "accept", "accept", "expire", "escalate",
       "session_status", "move_session", "move_request", "review", "review", "review_change", "delete_session",
       "refresh", "refresh", "start", "start", "complete", "complete", "no_show", "decline", "decline",
       "decline_change", "cancel", "refund_withdrawn", "availability", "availability_past", "availability_past"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 999), st.integers(0, 999)), min_size=1, max_size=30))
def test_rollups_equal_recount_after_random_changes(conn, ops):
    conn.execute("SET jit = off")  # the references' estimates would JIT-compile each of them (~15 ms a query)
    with conn.transaction(force_rollback=True):
        world = setup_world(conn)
        for op, a, b in ops:
            apply_op(conn, world, op, a, b)
            assert_rollups_equal_recount(conn)  # after each change: each one must reach the rollups
        assert_rollup_rows_equal_rebuild(conn)
        conn.execute("SELECT ssr_private.analytics_rollups_rebuild()")
        assert_rollups_equal_recount(conn)


def test_rollups_on_seed_data(seeded_conn):
    assert_rollups_equal_recount(seeded_conn)
    seeded_conn.execute("DELETE FROM reviews WHERE rating >= 4")
    seeded_conn.execute("UPDATE sessions SET status = 'refunded' WHERE status = 'completed' AND random() < 0.5")
    assert_rollups_equal_recount(seeded_conn)
