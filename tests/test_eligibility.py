"""Eligibility: working hours in time zones (DST, overnight spans, holidays and overrides), no offer
outside hours in the one rule (offers, accept, the row policy) while the maintained counts follow the
hours job, the workshop_only checkout failing closed before payment, required skills relaxed after a
while, priority customers first, and the returning customer's previous mechanic's window."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest

from tests.dbutil import ACCEPT_AS, offers_as, set_identity
from tests.lifecycle_sql import DECLINE_AS, visible_as
from tests.test_routing_world import build_world, expect_error, new_request, new_session


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def open_at(conn, mechanic, workshop, at: datetime) -> bool:
    return conn.execute("SELECT ssr_private.hours_open_at(%s, %s, %s)", (mechanic, workshop, at)).fetchone()[0]


def offered(conn, mechanic) -> list:
    return [r for (r,) in conn.execute(offers_as("request_id"), (mechanic, 500)).fetchall()]


def week(conn, *, mechanic=None, workshop=None, days=range(1, 6), opens="09:00", closes="17:00"):
    for d in days:
        conn.execute(
            "INSERT INTO working_hours (mechanic_id, workshop_id, iso_dow, opens, closes) VALUES (%s, %s, %s, %s, %s)",
            (mechanic, workshop, d, opens, closes),
        )


def closed_today(conn, *, mechanic=None, workshop=None):
    """An override closing the whole local day (UTC zone: today) and its neighbours, whatever the hour."""
    for delta in (-1, 0, 1):
        conn.execute(
            "INSERT INTO hours_overrides (mechanic_id, workshop_id, day, note) VALUES (%s, %s, current_date + %s, 'leave')",
            (mechanic, workshop, delta),
        )


def counts(conn, w, ws="alpha"):
    avail = conn.execute("SELECT available_mechanics FROM workshop_stats WHERE workshop_id = %s", (w.ws[ws],)).fetchone()[0]
    total = conn.execute("SELECT eligible_mechanics FROM routing_candidates").fetchone()[0]
    return avail, total


def test_hours_follow_the_wall_clock_of_the_time_zone_across_dst(conn):
    w = build_world(conn)
    a1, alpha = w.mech["a1"], w.ws["alpha"]
    conn.execute("UPDATE mechanics SET time_zone = 'Europe/Berlin' WHERE id = %s", (a1,))
    week(conn, mechanic=a1)  # Mon-Fri 09:00-17:00 Berlin time
    # Friday 27 March 2026 is CET (UTC+1); Monday 30 March is CEST (UTC+2), after the change on the 29th.
    assert not open_at(conn, a1, alpha, utc("2026-03-27 07:30"))  # 08:30 CET
    assert open_at(conn, a1, alpha, utc("2026-03-27 08:30"))  # 09:30 CET
    assert open_at(conn, a1, alpha, utc("2026-03-27 15:59"))  # 16:59 CET
    assert not open_at(conn, a1, alpha, utc("2026-03-27 16:00"))  # 17:00 CET: closes is excluded
    assert not open_at(conn, a1, alpha, utc("2026-03-28 10:00"))  # Saturday
    assert open_at(conn, a1, alpha, utc("2026-03-30 07:30"))  # 09:30 CEST: the same UTC hour is closed on Friday
    assert not open_at(conn, a1, alpha, utc("2026-03-30 06:30"))  # 08:30 CEST
    assert not open_at(conn, a1, alpha, utc("2026-03-30 15:30"))  # 17:30 CEST
    # The same hours in New York (DST from 8 March 2026): 09:00 EDT is 13:00 UTC.
    conn.execute("UPDATE mechanics SET time_zone = 'America/New_York' WHERE id = %s", (a1,))
    assert open_at(conn, a1, alpha, utc("2026-03-30 13:00"))
    assert not open_at(conn, a1, alpha, utc("2026-03-30 12:59"))
    assert not open_at(conn, a1, alpha, utc("2026-03-06 13:30"))  # 08:30 EST, before the change
    # A bad time zone is refused when written (check constraint), so a decision never fails on one.
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE mechanics SET time_zone = 'Mars/Olympus' WHERE id = %s", (a1,))


def test_overnight_spans_workshop_hours_overrides_and_holidays(conn):
    w = build_world(conn)
    a1, a2, alpha = w.mech["a1"], w.mech["a2"], w.ws["alpha"]
    conn.execute("UPDATE organizations SET time_zone = 'Europe/London' WHERE id = %s", (alpha,))
    # The workshop: Friday 22:00 to 02:00 (past midnight), which a2 (no hours of their own) inherits.
    week(conn, workshop=alpha, days=[5], opens="22:00", closes="02:00")
    # 2026-07-03 is a Friday, BST (UTC+1).
    assert open_at(conn, a2, alpha, utc("2026-07-03 21:30"))  # 22:30 Friday
    assert open_at(conn, a2, alpha, utc("2026-07-04 00:30"))  # 01:30 Saturday, the tail of Friday's span
    assert not open_at(conn, a2, alpha, utc("2026-07-04 01:00"))  # 02:00 Saturday
    assert not open_at(conn, a2, alpha, utc("2026-07-03 12:00"))
    # a1's own hours win over the workshop's.
    week(conn, mechanic=a1, days=[5], opens="08:00", closes="12:00")
    assert open_at(conn, a1, alpha, utc("2026-07-03 08:00")) and not open_at(conn, a1, alpha, utc("2026-07-03 21:30"))
    # Independents without hours: always in hours (the behaviour before working hours).
    assert open_at(conn, w.mech["i1"], None, utc("2026-07-05 03:00"))
    # A workshop holiday closes its mechanics (those with their own hours too) on that local day...
    conn.execute("INSERT INTO hours_overrides (workshop_id, day, note) VALUES (%s, '2026-12-25', 'Christmas')", (alpha,))
    assert not open_at(conn, a1, alpha, utc("2026-12-25 09:00"))  # a Friday
    assert not open_at(conn, a2, alpha, utc("2026-12-25 22:30"))
    # ...unless the mechanic has an override of their own that day (special hours).
    conn.execute("INSERT INTO hours_overrides (mechanic_id, day, opens, closes) VALUES (%s, '2026-12-25', '10:00', '12:00')", (a1,))
    assert open_at(conn, a1, alpha, utc("2026-12-25 11:00")) and not open_at(conn, a1, alpha, utc("2026-12-25 09:30"))
    # Special hours on a day without weekly hours open it.
    conn.execute("INSERT INTO hours_overrides (mechanic_id, day, opens, closes) VALUES (%s, '2026-12-27', '10:00', '11:00')", (a1,))
    assert open_at(conn, a1, alpha, utc("2026-12-27 10:30"))  # a Sunday


def test_no_offer_outside_hours_and_the_counts_follow(conn):
    w = build_world(conn)
    a1 = w.mech["a1"]
    before = counts(conn, w)
    req = new_request(conn, w, "broadcast")
    assert req["id"] in offered(conn, a1) and req["id"] in visible_as(conn, a1)
    closed_today(conn, mechanic=a1)  # the trigger refreshes a1's hours state at once
    row = conn.execute("SELECT hours_scheduled, in_hours FROM mechanics WHERE id = %s", (a1,)).fetchone()
    assert row == (True, False)
    assert counts(conn, w) == (before[0] - 1, before[1] - 1)
    assert offered(conn, a1) == [] and visible_as(conn, a1) == set()
    err = expect_error(conn, "SR403", ACCEPT_AS, (req["id"], a1), column="mechanic_id")
    assert "outside their working hours" in str(err)
    assert req["id"] in offered(conn, w.mech["a2"])
    # A stale flag (the job not run yet) does not open the rule: hours are checked at the instant.
    conn.execute("UPDATE mechanics SET in_hours = TRUE WHERE id = %s", (a1,))
    assert offered(conn, a1) == []
    expect_error(conn, "SR403", ACCEPT_AS, (req["id"], a1), column="mechanic_id")
    # The job puts the flag right (and the counts with it); a no-op run changes nothing.
    assert conn.execute("SELECT ssr_private.hours_refresh()").fetchone()[0] == 1
    assert conn.execute("SELECT ssr_private.hours_refresh()").fetchone()[0] == 0
    assert counts(conn, w) == (before[0] - 1, before[1] - 1)
    # The job flips at the boundary: two days on, the leave is over (no weekly hours: always in hours).
    assert conn.execute("SELECT ssr_private.hours_refresh(now() + interval '2 days')").fetchone()[0] == 1
    assert counts(conn, w) == before
    # Removing the hours takes effect at once; the rebuild agrees with the maintained counts.
    conn.execute("DELETE FROM hours_overrides WHERE mechanic_id = %s", (a1,))
    assert conn.execute("SELECT hours_scheduled, in_hours FROM mechanics WHERE id = %s", (a1,)).fetchone() == (False, True)
    assert req["id"] in offered(conn, a1)
    conn.execute("SELECT ssr_private.workshop_stats_rebuild()")
    assert counts(conn, w) == before


def test_a_workshop_holiday_skips_the_hybrid_window_and_hides_it_from_the_directory(conn):
    w = build_world(conn)
    listed = {r[0] for r in conn.execute("SELECT workshop_id FROM get_workshop_directory(100)").fetchall()}
    assert w.ws["beta"] in listed
    closed_today(conn, workshop=w.ws["beta"])
    assert counts(conn, w, "beta")[0] == 0
    listed = {r[0] for r in conn.execute("SELECT workshop_id FROM get_workshop_directory(100)").fetchall()}
    assert w.ws["beta"] not in listed
    req = new_request(conn, w, "hybrid", "beta")
    assert req["exclusive_until"] is None  # nobody of beta in hours: no window, open to everyone at once
    assert req["id"] in offered(conn, w.mech["a1"]) and offered(conn, w.mech["b1"]) == []


def test_workshop_only_checkout_fails_closed_before_payment_when_nobody_is_in_hours(seeded_conn):
    conn = seeded_conn
    alice = "33333333-3333-4333-8333-000000000001"
    ws = conn.execute(
        "SELECT o.id FROM organizations AS o WHERE o.status = 'active' "
        "AND EXISTS (SELECT 1 FROM mechanics AS m WHERE m.workshop_id = o.id AND m.status = 'active') LIMIT 1"
    ).fetchone()[0]
    set_identity(conn, "customer", alice)
    sql = "SELECT id FROM create_checkout_purchase(%s, 'video15', %s, %s)"
    assert conn.execute(sql, (alice, ws, "workshop_only")).fetchone()  # no hours: as before
    closed_today(conn, workshop=ws)
    before = conn.execute("SELECT count(*) FROM checkout_purchases").fetchone()[0]
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, (alice, ws, "workshop_only"))
    assert info.value.sqlstate == "SR409" and info.value.diag.column_name == "workshop_id"
    assert "outside working hours" in str(info.value)
    assert conn.execute("SELECT count(*) FROM checkout_purchases").fetchone()[0] == before
    # hybrid and broadcast still go through: someone else can serve them
    assert conn.execute(sql, (alice, ws, "hybrid")).fetchone()
    # one mechanic of the workshop in hours (own override that day) is enough
    m = conn.execute("SELECT id FROM mechanics WHERE workshop_id = %s AND status = 'active' LIMIT 1", (ws,)).fetchone()[0]
    for delta in (-1, 0, 1):
        conn.execute(
            "INSERT INTO hours_overrides (mechanic_id, day, opens, closes) VALUES (%s, current_date + %s, '00:00', '00:00')",
            (m, delta),
        )
    assert conn.execute(sql, (alice, ws, "workshop_only")).fetchone()


def test_required_skills_restrict_offers_until_they_relax(conn):
    w = build_world(conn)
    a1, a2, i1 = w.mech["a1"], w.mech["a2"], w.mech["i1"]
    conn.execute("UPDATE mechanics SET skills = '{ev,make:tesla,lang:de}' WHERE id = %s", (a1,))
    conn.execute("UPDATE mechanics SET skills = '{ev}' WHERE id = %s", (a2,))
    intake = conn.execute(
        "INSERT INTO intakes (customer_id, vehicle_make, description, required_skills) "
        "VALUES (%s, 'Tesla', 'charging fault', '{EV, make:tesla, \" \"}') RETURNING id",
        (w.customer,),
    ).fetchone()[0]
    sid = new_session(conn, w)
    req = conn.execute(
        "SELECT id, required_skills, skills_relax_at - created_at "
        "FROM ssr_private.create_session_request(%s, %s, %s, %s, NULL, 'broadcast')",
        (w.customer, w.plan, sid, intake),
    ).fetchone()
    rid = req[0]
    assert req[1] == ["ev", "make:tesla"]  # normalised: lower case, no blanks, sorted
    assert req[2].total_seconds() == 300  # skills_relax_seconds' default
    assert rid in offered(conn, a1) and rid in visible_as(conn, a1)
    assert rid not in offered(conn, a2) and rid not in offered(conn, i1) and rid not in visible_as(conn, a2)
    err = expect_error(conn, "SR403", ACCEPT_AS, (rid, a2), column="mechanic_id")
    assert "needs skills ev, make:tesla" in str(err)
    # The rule at a later instant: relaxed for everyone.
    rule = ("SELECT ssr_private.routing_offered(r, %s, NULL, r.skills_relax_at + interval '1 second') "
            "FROM session_requests AS r WHERE r.id = %s")
    assert conn.execute(rule, (i1, rid)).fetchone()[0] is True
    conn.execute("UPDATE session_requests SET skills_relax_at = now() - interval '1 second' WHERE id = %s", (rid,))
    assert rid in offered(conn, a2) and rid in offered(conn, i1)
    assert conn.execute(ACCEPT_AS, (rid, i1)).fetchone()


def test_priority_customers_are_served_first_then_oldest(conn):
    w = build_world(conn)
    a1 = w.mech["a1"]
    first = new_request(conn, w, "broadcast")
    conn.execute("UPDATE customers SET priority_tier = 2 WHERE id = %s", (w.other_customer,))
    sid = new_session(conn, w, customer=w.other_customer)
    vip = conn.execute(
        "SELECT id, priority FROM ssr_private.create_session_request(%s, %s, %s, NULL, NULL, 'broadcast')",
        (w.other_customer, w.plan, sid),
    ).fetchone()
    assert vip[1] == 2
    second = new_request(conn, w, "broadcast")
    own = new_request(conn, w, "workshop_only", "alpha")  # score 100 for a1, but a normal customer
    assert offered(conn, a1) == [vip[0], own["id"], first["id"], second["id"]]
    # a normal customer's requests keep the seed's order: score, then age
    assert conn.execute("SELECT priority FROM session_requests WHERE id = %s", (first["id"],)).fetchone()[0] is None


def test_queue_position_counts_the_competitors_served_before(conn):
    w = build_world(conn)
    set_identity(conn, "customer", w.customer)
    reqs = [new_request(conn, w, "broadcast") for _ in range(3)]
    own = new_request(conn, w, "workshop_only", "alpha")
    q = "SELECT * FROM get_request_queue_position(%s, %s)"
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    rows = [cur.execute(q, (r["id"], w.customer)).fetchone() for r in reqs]
    assert [r["queue_position"] for r in rows] == [1, 2, 3]
    assert {r["pool"] for r in rows} == {"everyone"}
    assert rows[0]["pool_mechanics"] == conn.execute("SELECT eligible_mechanics FROM routing_candidates").fetchone()[0] == 5
    assert all(r["estimated_wait_seconds"] is None for r in rows)  # no accept recorded yet: no basis
    # the workshop_only request competes for alpha's mechanics with the broadcast ones before it
    mine = cur.execute(q, (own["id"], w.customer)).fetchone()
    assert (mine["pool"], mine["queue_position"], mine["pool_mechanics"]) == ("workshop", 4, 2)
    # a workshop-only request does not hold up the broadcast ones (it competes for part of the pool)
    later = new_request(conn, w, "broadcast")
    assert cur.execute(q, (later["id"], w.customer)).fetchone()["queue_position"] == 4
    # an estimate from recent times to accept: the routing type's daily medians of the rollups
    conn.execute(
        "INSERT INTO analytics_routing_rollup (routing_type, day, requests, accepted, expired, cancelled, pending, escalated, "
        "accepted_outside_preferred, preferred_accepted, preferred_closed, median_accept_seconds) "
        "VALUES ('broadcast', current_date, 30, 10, 0, 0, 0, 0, 0, 0, 0, 40), "
        "('broadcast', current_date - 1, 30, 30, 0, 0, 0, 0, 0, 0, 0, 80), "
        "('broadcast', current_date - 30, 30, 30, 0, 0, 0, 0, 0, 0, 0, 9000)"
    )
    r = cur.execute(q, (reqs[2]["id"], w.customer)).fetchone()
    assert r["typical_accept_seconds"] == pytest.approx((40 * 10 + 80 * 30) / 40) and r["accept_sample"] == 40
    assert 68 <= r["estimated_wait_seconds"] <= 70  # 70 s, one round (3 <= 5 mechanics), minus the time waited
    # a priority customer's request goes ahead of everyone of lower priority
    conn.execute("UPDATE session_requests SET priority = 1 WHERE id = %s", (later["id"],))
    assert cur.execute(q, (later["id"], w.customer)).fetchone()["queue_position"] == 1
    assert cur.execute(q, (reqs[0]["id"], w.customer)).fetchone()["queue_position"] == 2
    # once taken: its status, no figures
    conn.execute(ACCEPT_AS, (reqs[0]["id"], w.mech["i1"]))
    r = cur.execute(q, (reqs[0]["id"], w.customer)).fetchone()
    assert r["status"] == "accepted" and r["queue_position"] is None
    # another customer's request is unknown to this one; no identity is refused
    set_identity(conn, "customer", w.other_customer)
    expect_error(conn, "SR404", q, (reqs[1]["id"], w.other_customer), column="request_id")
    set_identity(conn, "customer", None)
    expect_error(conn, "SR403", q, (reqs[1]["id"], w.customer), column="customer_id")


def returning_policy(conn, seconds=30):
    conn.execute("UPDATE routing_policies SET is_default = FALSE WHERE is_default")
    conn.execute(
        "INSERT INTO routing_policies (name, params, is_default) VALUES ('returning', %s, TRUE)",
        (json.dumps({"returning_window_seconds": seconds}),),
    )


def completed_session(conn, w, mechanic):
    conn.execute(
        "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency, mechanic_id, status, started_at, ended_at) "
        "VALUES (%s, %s, 2900, 'usd', %s, 'completed', now() - interval '1 hour', now() - interval '50 minutes')",
        (w.customer, w.plan, mechanic),
    )


def test_the_returning_customers_previous_mechanic_gets_a_short_window(conn):
    w = build_world(conn)
    a1, b1, i1 = w.mech["a1"], w.mech["b1"], w.mech["i1"]
    completed_session(conn, w, a1)
    # the registry's default is 0: no window (as before)
    assert new_request(conn, w, "broadcast")["returning_until"] is None
    returning_policy(conn, 30)
    req = new_request(conn, w, "broadcast")
    assert req["returning_mechanic_id"] == a1
    assert (req["returning_until"] - req["created_at"]).total_seconds() == 30
    assert req["id"] in offered(conn, a1) and req["id"] not in offered(conn, b1) and req["id"] not in visible_as(conn, b1)
    err = expect_error(conn, "SR403", ACCEPT_AS, (req["id"], b1), column="mechanic_id")
    assert "previous mechanic" in str(err)
    # their decline ends the window at once
    conn.execute(DECLINE_AS, (req["id"], a1, "busy"))
    assert req["id"] in offered(conn, b1) and req["id"] in offered(conn, i1)
    # the window passes by itself
    other = new_request(conn, w, "broadcast")
    conn.execute("UPDATE session_requests SET returning_until = now() - interval '1 second' WHERE id = %s", (other["id"],))
    assert other["id"] in offered(conn, b1)


def test_no_returning_window_when_that_mechanic_cannot_take_it(conn):
    w = build_world(conn)
    a1, b1 = w.mech["a1"], w.mech["b1"]
    returning_policy(conn, 30)
    completed_session(conn, w, b1)
    # hybrid preferring alpha: b1 (beta) is not offered it during alpha's window
    assert new_request(conn, w, "hybrid", "alpha")["returning_until"] is None
    # offline, or outside hours: no window
    conn.execute("UPDATE mechanics SET is_available = FALSE WHERE id = %s", (b1,))
    assert new_request(conn, w, "broadcast")["returning_until"] is None
    conn.execute("UPDATE mechanics SET is_available = TRUE WHERE id = %s", (b1,))
    closed_today(conn, mechanic=b1)
    assert new_request(conn, w, "broadcast")["returning_until"] is None
    # the most recent completed session decides
    completed_session(conn, w, a1)
    conn.execute("UPDATE sessions SET ended_at = now() WHERE mechanic_id = %s", (a1,))
    assert new_request(conn, w, "broadcast")["returning_mechanic_id"] == a1


def test_a_mechanic_sets_their_own_hours_and_reads_them(conn):
    w = build_world(conn)
    a1 = w.mech["a1"]
    q = "SELECT * FROM set_mechanic_hours(%s, %s, %s::jsonb)"
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    with pytest.raises(psycopg.Error) as info:
        conn.execute(q, (a1, "UTC", "[]"))
    assert info.value.sqlstate == "SR403"
    set_identity(conn, "mechanic", a1)
    before = counts(conn, w)
    # hours that never include now: one minute on a day that is neither yesterday, today nor tomorrow (UTC)
    dow = conn.execute("SELECT extract(ISODOW FROM now() AT TIME ZONE 'UTC')::integer").fetchone()[0]
    far = (dow + 2) % 7 + 1
    row = cur.execute(q, (a1, "Asia/Tokyo", json.dumps([{"day": far, "opens": "09:00", "closes": "09:01"}]))).fetchone()
    assert (row["time_zone"], row["time_zone_source"], row["source"], row["in_hours"]) == ("Asia/Tokyo", "mechanic", "mechanic", False)
    assert row["hours"] == [{"day": far, "opens": "09:00", "closes": "09:01"}]
    assert counts(conn, w) == (before[0] - 1, before[1] - 1)
    # the whole week: in hours again; [] removes them (the workshop's none: always)
    row = cur.execute(q, (a1, None, json.dumps([{"day": d, "opens": "00:00", "closes": "00:00"} for d in range(1, 8)]))).fetchone()
    assert (row["time_zone"], row["time_zone_source"], row["in_hours"]) == ("UTC", "default", True)
    assert counts(conn, w) == before
    row = cur.execute(q, (a1, "Europe/Paris", "[]")).fetchone()
    assert (row["source"], row["hours"], row["in_hours"]) == ("always", [], True)
    assert cur.execute("SELECT * FROM get_mechanic_hours(%s)", (a1,)).fetchone() == row
    # bad input: SR400 naming the field, nothing written
    kept = conn.execute("SELECT count(*), (SELECT time_zone FROM mechanics WHERE id = %s) FROM working_hours", (a1,)).fetchone()
    for tz, hours, column in [
        ("Mars/Olympus", "[]", "time_zone"),
        ("UTC", '{"day": 1}', "hours"),
        ("UTC", '[{"day": 8, "opens": "09:00", "closes": "17:00"}]', "hours"),
        ("UTC", '[{"day": 1, "opens": "9am", "closes": "17:00"}]', "hours"),
        ("UTC", '[{"day": 1, "opens": "25:00", "closes": "17:00"}]', "hours"),
        ("UTC", '[{"day": 1, "opens": "09:00", "closes": "17:00", "x": 1}]', "hours"),
        ("UTC", json.dumps([{"day": 1, "opens": "09:00", "closes": "10:00"}] * 29), "hours"),
    ]:
        with pytest.raises(psycopg.Error) as info:
            conn.execute(q, (a1, tz, hours))
        assert (info.value.sqlstate, info.value.diag.column_name) == ("SR400", column), (tz, hours)
        assert conn.execute("SELECT count(*), (SELECT time_zone FROM mechanics WHERE id = %s) FROM working_hours",
                            (a1,)).fetchone() == kept
