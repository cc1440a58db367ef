"""The SQL behind the pages: get_checkout_progress (the live success page), get_booking_options
(the booking form) and get_mechanic_channels (what a live dashboard LISTENs to)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.dbutil import ACCEPT_AS, set_identity

ALICE = "33333333-3333-4333-8333-000000000001"
AUTOPRO = "11111111-1111-4111-8111-000000000001"
SHADY = "11111111-1111-4111-8111-000000000004"
ANA = "22222222-2222-4222-8222-000000000001"


def purchase(conn, routing_type="hybrid", workshop=AUTOPRO) -> tuple[str, str]:
    set_identity(conn, "customer", ALICE)  # acting for Alice, as the app does
    pid = conn.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', %s, %s)",
                       (ALICE, workshop, routing_type)).fetchone()[0]
    cs = "cs_test_" + uuid.uuid4().hex
    conn.execute("SELECT attach_checkout_session(%s, %s)", (pid, cs))
    return str(pid), cs


def progress(conn, cs) -> dict:
    cur = conn.execute("SELECT * FROM get_checkout_progress(%s)", (cs,))
    row = cur.fetchone()
    return None if row is None else dict(zip([d.name for d in cur.description], row, strict=True))


def status(conn, cs) -> tuple:
    """get_checkout_status's refund columns (the success page's first render reads them)."""
    return conn.execute("SELECT refund_status, refund_amount_minor, refund_currency, refunded_at "
                        "FROM get_checkout_status(%s)", (cs,)).fetchone()


def fulfill(conn, pid, cs, routing_type="hybrid", workshop=AUTOPRO):
    return conn.execute(
        "SELECT * FROM handle_checkout_event(%s, 'checkout.session.completed', FALSE, %s, %s, 'paid', 2900, 'usd')",
        ("evt_" + uuid.uuid4().hex, cs, pid)).fetchone()


def test_checkout_progress_follows_the_request(seeded_conn):
    conn = seeded_conn
    assert progress(conn, "cs_test_unknown") is None
    pid, cs = purchase(conn)
    p = progress(conn, cs)
    assert (p["state"], p["purchase_status"], p["routing_type"], p["preferred_workshop_name"], p["plan_name"]) == (
        "confirming", "pending", "hybrid", "AutoPro Mechanics", "15-minute video session")
    fulfill(conn, pid, cs)
    p = progress(conn, cs)
    assert p["state"] == "searching" and p["exclusive_until"] > p["server_now"] and p["mechanic_name"] is None
    # The window closed (escalated): no countdown any more.
    conn.execute("UPDATE session_requests SET exclusive_until = now() - interval '1 second' WHERE id = %s",
                 (p["session_request_id"],))
    assert progress(conn, cs)["exclusive_until"] is None
    conn.execute(ACCEPT_AS, (p["session_request_id"], ANA))
    p = progress(conn, cs)
    assert (p["state"], p["mechanic_name"], p["workshop_name"]) == ("assigned", "Ana Torres", "AutoPro Mechanics")
    cs_assigned = cs

    # Nobody in time: expired, refund due.
    pid, cs = purchase(conn, "workshop_only")
    fulfill(conn, pid, cs)
    conn.execute("SELECT * FROM ssr_private.sweep_session_requests(now() + interval '2 hours')")
    p = progress(conn, cs)
    assert (p["state"], p["outcome"]) == ("expired", "expired_no_mechanic")
    # The refund it is owed, followed as the worker records it (the page reads it, never guesses).
    assert (p["refund_status"], p["refund_amount_minor"], p["refund_currency"], p["refunded_at"]) == (
        "pending", 2900, "usd", None)
    refund_id = conn.execute("SELECT id FROM refunds WHERE purchase_id = %s", (pid,)).fetchone()[0]
    conn.execute("SELECT ssr_private.refund_record_attempt(%s, 'pi_test_1', NULL, NULL, 'Stripe answered 500', TRUE)",
                 (refund_id,))
    assert progress(conn, cs)["refund_status"] == "pending"  # a retry is due: still on its way
    conn.execute("SELECT ssr_private.refund_record_attempt(%s, 'pi_test_1', 're_test_1', 'succeeded')", (refund_id,))
    p = progress(conn, cs)
    assert p["refund_status"] == "succeeded" and p["refunded_at"] is not None
    assert status(conn, cs)[:4] == ("succeeded", 2900, "usd", p["refunded_at"])
    # A refund Stripe refuses is shown as failed, not as on its way.
    pid2, cs2 = purchase(conn, "workshop_only")
    fulfill(conn, pid2, cs2)
    conn.execute("SELECT * FROM ssr_private.sweep_session_requests(now() + interval '2 hours')")
    refund_id = conn.execute("SELECT id FROM refunds WHERE purchase_id = %s", (pid2,)).fetchone()[0]
    conn.execute("SELECT ssr_private.refund_record_attempt(%s, 'pi_test_2', NULL, NULL, 'charge already refunded', FALSE)",
                 (refund_id,))
    assert (progress(conn, cs2)["refund_status"], progress(conn, cs2)["refunded_at"]) == ("failed", None)
    # An assigned request owes nothing.
    assert progress(conn, cs_assigned)["refund_status"] is None

    # A payment that does not match: failed, with the reason.
    pid, cs = purchase(conn, "broadcast", None)
    conn.execute("SELECT * FROM handle_checkout_event('evt_x', 'checkout.session.completed', FALSE, %s, %s, "
                 "'paid', 1, 'usd')", (cs, pid))
    p = progress(conn, cs)
    assert (p["state"], p["failure_reason"]) == ("failed", "amount_mismatch")


def test_booking_options_list_every_plan_of_an_active_workshop(seeded_conn):
    rows = seeded_conn.execute("SELECT workshop_name, available_mechanics, plan_code, price_minor "
                               "FROM get_booking_options(%s)", (AUTOPRO,)).fetchall()
    plans = seeded_conn.execute("SELECT code, price_minor FROM plans ORDER BY price_minor, code").fetchall()
    avail = seeded_conn.execute("SELECT count(*) FROM ssr_private.routing_available_mechanics WHERE workshop_id = %s",
                                (AUTOPRO,)).fetchone()[0]
    assert [(r[2], r[3]) for r in rows] == plans
    assert {(r[0], r[1]) for r in rows} == {("AutoPro Mechanics", avail)}
    for wid, state in ((None, "SR400"), (SHADY, "SR404"), (str(uuid.uuid4()), "SR404")):
        with pytest.raises(psycopg.Error) as exc:
            seeded_conn.execute("SELECT * FROM get_booking_options(%s)", (wid,))
        assert exc.value.sqlstate == state and exc.value.diag.column_name == "workshop_id"


def test_mechanic_channels(seeded_conn):
    conn = seeded_conn
    ws = conn.execute("SELECT routing_workshop_channel(%s)", (AUTOPRO,)).fetchone()[0]
    # acting for a mechanic: the transaction's verified identity (the app's app.mechanic_id)
    channels = "SELECT get_mechanic_channels(%s) FROM (SELECT set_config('app.mechanic_id', %s, TRUE)) AS s"
    assert conn.execute(channels, (ANA, ANA)).fetchone()[0] == ["session_requests", ws]
    hana = "22222222-2222-4222-8222-000000000008"  # independent
    assert conn.execute(channels, (hana, hana)).fetchone()[0] == ["session_requests"]
    unknown = str(uuid.uuid4())
    for mid, acting, state in ((None, "", "SR400"), (unknown, unknown, "SR404"), (ANA, "", "SR403")):
        with pytest.raises(psycopg.Error) as exc:
            conn.execute(channels, (mid, acting))
        assert exc.value.sqlstate == state and exc.value.diag.column_name == "mechanic_id"
    with conn.transaction():
        conn.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", ("22222222-2222-4222-8222-000000000004",))
        with pytest.raises(psycopg.Error) as exc:
            conn.execute("SELECT get_mechanic_channels(%s)", (ANA,))
        assert exc.value.sqlstate == "SR403"
        raise psycopg.Rollback
