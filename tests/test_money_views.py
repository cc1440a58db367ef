"""Refunds in the analytics views, the session ledger and workshop earnings: figures equal
hand-computed values on the crafted marketplace of test_analytics, with refunds added:

  R3 / S3  expired, nobody served it          refund 1000 usd expired_no_mechanic  succeeded
  R5 / S5  served by m1 (Alpha), refunded     refund  400 usd request_cancelled   succeeded (partial)
  R6 / S6  cancelled before anyone accepted   refund 1000 usd customer_cancelled  pending

Payout rates: 20 % workshop / 25 % independent from the start, 15 % / 20 % from 2026-03-09.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.test_analytics import ALPHA, BETA, CUSTOMER, D, M, check, load_crafted, refresh, rows, wsa


def ledger_rows(conn, relation: str, key: tuple[str, ...]) -> dict:
    """rows() of test_analytics for the ledger views (schema analytics, not rollup-backed)."""
    cur = conn.execute(f"SELECT * FROM analytics.{relation}")  # relation names are constants of this file
    cols = [d.name for d in cur.description]
    return {tuple(r[cols.index(c)] for c in key): dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


REFUNDS = {"R3": (1000, "expired_no_mechanic", "succeeded"), "R5": (400, "request_cancelled", "succeeded"),
           "R6": (1000, "customer_cancelled", "pending")}


@pytest.fixture
def money(conn):
    load_crafted(conn)
    conn.execute("INSERT INTO payout_rates (effective_from, workshop_platform_fee_bps, independent_platform_fee_bps) "
                 "VALUES ('2026-03-09 00:00+00', 1500, 2000)")
    by_time = {"R3": "2026-03-02 12:00+00", "R5": "2026-03-04 09:00+00", "R6": "2026-03-04 10:00+00"}
    for name, (amount, reason, status) in REFUNDS.items():
        sid, rid, plan, pref, rtype = conn.execute(
            "SELECT s.id, r.id, r.plan_code, r.preferred_workshop_id, r.routing_type FROM session_requests AS r "
            "JOIN sessions AS s ON s.id = r.session_id WHERE r.created_at = %s", (by_time[name],)).fetchone()
        cs = "cs_test_" + uuid.uuid4().hex
        pid = conn.execute(
            "INSERT INTO checkout_purchases (customer_id, customer_email, plan_code, amount_minor, currency, "
            "preferred_workshop_id, routing_type, status, stripe_checkout_session_id, session_id, session_request_id, "
            "fulfilled_at) VALUES (%s, 'c@example.com', %s, 1000, 'usd', %s, %s, 'fulfilled', %s, %s, %s, now()) "
            "RETURNING id", (CUSTOMER, plan, pref, rtype, cs, sid, rid)).fetchone()[0]
        conn.execute(
            "INSERT INTO refunds (purchase_id, session_id, session_request_id, stripe_checkout_session_id, amount_minor, "
            "currency, reason, status, stripe_refund_id, succeeded_at) VALUES (%s, %s, %s, %s, %s, 'usd', %s, %s, %s, %s)",
            (pid, sid, rid, cs, amount, reason, status, "re_" + uuid.uuid4().hex if status == "succeeded" else None,
             "2026-03-05" if status == "succeeded" else None))
    refresh(conn)
    return conn


def test_refunds_per_workshop_hand_computed(money):
    got = wsa(money)
    # Monday: S1, S2, S3 preferred Alpha; S3 refunded.
    check(got["Alpha", "day", D("2026-03-02")], refunds=1, refund_rate=Decimal("0.3333"), preferred_sessions=3)
    # Wednesday: S5 and S6 preferred Alpha, both owe a refund.
    check(got["Alpha", "day", D("2026-03-04")], refunds=2, refund_rate=Decimal("1.0000"))
    check(got["Alpha", "week", D("2026-03-02")], refunds=3, refund_rate=Decimal("0.6000"))
    check(got["Alpha", "month", D("2026-03-01")], refunds=3, refund_rate=Decimal("0.6000"))
    check(got["Alpha", "day", D("2026-03-10")], refunds=0, refund_rate=None)  # served R7, preferred by nobody
    check(got["Beta", "day", D("2026-03-10")], refunds=0, refund_rate=Decimal("0.0000"))
    # The existing columns did not move.
    check(got["Alpha", "day", D("2026-03-02")], sessions_served=2, preferred_requests=3, revenue_minor=None)


def test_refunds_per_strategy_hand_computed(money):
    got = rows(money, "routing_effectiveness", ("routing_type", "day"))
    check(got["workshop_only", D("2026-03-02")], requests=1, refunds=1, refund_rate=Decimal("1.0000"))
    check(got["hybrid", D("2026-03-02")], requests=2, refunds=0, refund_rate=Decimal("0.0000"))
    check(got["broadcast", D("2026-03-02")], requests=2, refunds=0, refund_rate=Decimal("0.0000"), pending=1)
    check(got["workshop_only", D("2026-03-04")], refunds=1, refund_rate=Decimal("1.0000"))
    check(got["hybrid", D("2026-03-04")], cancelled=1, refunds=1, refund_rate=Decimal("1.0000"))
    assert sum(r["refunds"] for r in got.values()) == 3


def test_session_ledger_hand_computed(money):
    got = {r["session_id"]: r for r in ledger_rows(money, "session_ledger", ("session_id",)).values()}
    by_mech_time = {
        (r["mechanic_id"], r["created_at"].isoformat()[:16]): r for r in got.values()
    }
    assert len(got) == 6  # S1, S2, S4, S5, S7, S8: the sessions a mechanic served
    s1 = by_mech_time[M[1], "2026-03-02T10:00"]
    check(s1, payee_type="workshop", payee_id=ALPHA, gross_minor=1000, refunded_minor=0, net_minor=1000,
          platform_fee_bps=2000, platform_fee_minor=200, payee_share_minor=800)
    s2 = by_mech_time[M[4], "2026-03-02T11:00"]
    check(s2, payee_type="independent_mechanic", payee_id=M[4], workshop_id=None, platform_fee_bps=2500,
          platform_fee_minor=250, payee_share_minor=750)
    s4 = by_mech_time[M[2], "2026-03-02T23:30"]
    check(s4, currency="eur", gross_minor=2000, platform_fee_minor=400, payee_share_minor=1600)
    s5 = by_mech_time[M[1], "2026-03-04T09:00"]
    check(s5, session_status="refunded", gross_minor=1000, refunded_minor=400, net_minor=600, platform_fee_minor=120,
          payee_share_minor=480)
    s7 = by_mech_time[M[1], "2026-03-10T09:00"]  # the new rates apply from March 9th
    check(s7, platform_fee_bps=1500, platform_fee_minor=150, payee_share_minor=850)
    s8 = by_mech_time[M[3], "2026-04-01T08:00"]
    check(s8, payee_id=BETA, platform_fee_minor=150, payee_share_minor=850)
    assert all(r["platform_fee_minor"] + r["payee_share_minor"] == r["net_minor"] for r in got.values())


def test_workshop_earnings_hand_computed(money):
    got = ledger_rows(money, "workshop_earnings", ("payee_id", "period_grain", "period_start", "currency"))
    check(got[ALPHA, "month", D("2026-03-01"), "usd"], payee_name="Alpha", sessions=3, gross_minor=3000,
          refunded_minor=400, net_minor=2600, platform_fee_minor=470, payee_share_minor=2130)
    check(got[ALPHA, "month", D("2026-03-01"), "eur"], sessions=1, gross_minor=2000, payee_share_minor=1600)
    check(got[ALPHA, "week", D("2026-03-02"), "usd"], sessions=2, gross_minor=2000, refunded_minor=400,
          net_minor=1600, platform_fee_minor=320, payee_share_minor=1280)
    check(got[M[4], "month", D("2026-03-01"), "usd"], payee_type="independent_mechanic", sessions=1,
          platform_fee_minor=250, payee_share_minor=750)
    check(got[BETA, "month", D("2026-04-01"), "usd"], sessions=1, payee_share_minor=850)
    assert {k[1] for k in got} == {"week", "month"}


def test_rounding_is_half_away_from_zero_and_the_parts_add_up(money):
    money.execute("INSERT INTO payout_rates (effective_from, workshop_platform_fee_bps, independent_platform_fee_bps) "
                  "VALUES ('2026-03-31 00:00+00', 1250, 1250)")  # S8 at 12.5 %
    money.execute("UPDATE sessions SET amount_total_minor = 1004 WHERE created_at = '2026-04-01 08:00+00'")
    s8 = next(r for r in ledger_rows(money, "session_ledger", ("session_id",)).values() if r["payee_id"] == BETA)
    check(s8, gross_minor=1004, platform_fee_minor=126, payee_share_minor=878)  # 125.5 -> 126


@pytest.mark.parametrize("relation", ["analytics.session_ledger", "analytics.workshop_earnings",
                                      "public.session_ledger", "public.workshop_earnings", "refunds", "payout_rates",
                                      "reconciliation_runs", "reconciliation_actions", "unresolved_checkout_sessions"])
def test_every_new_relation_and_column_is_documented(conn, relation):
    assert conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (relation,)).fetchone()[0]
    undocumented = conn.execute(
        "SELECT a.attname FROM pg_attribute AS a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND coalesce(col_description(a.attrelid, a.attnum), '') = ''", (relation,)).fetchall()
    assert undocumented == []


@pytest.mark.parametrize("view", ["session_ledger", "workshop_earnings"])
def test_public_ledger_views_are_the_analytics_ones_kept_for_compatibility(money, view):
    key = ("session_id",) if view == "session_ledger" else ("payee_id", "period_grain", "period_start", "currency")
    moved = ledger_rows(money, view, key)
    assert moved
    cur = money.execute(f"SELECT * FROM public.{view}")  # view names are constants of this file
    cols = [d.name for d in cur.description]
    assert {tuple(r[cols.index(c)] for c in key): dict(zip(cols, r, strict=True)) for r in cur.fetchall()} == moved
    assert "compatibility" in money.execute("SELECT obj_description(%s::regclass, 'pg_class')", (f"public.{view}",)).fetchone()[0]
    # The same grants as before the move: the owner only, in public; the BI role reads analytics'.
    for role in ("analytics", "ssr_app", "mechanic", "customer", "public"):
        assert money.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", (role, f"public.{view}")).fetchone() == (
            False,), role
    assert money.execute("SELECT has_table_privilege('analytics', %s, 'SELECT')", (f"analytics.{view}",)).fetchone() == (
        True,)
