"""Checkout and fulfillment in Postgres: create_checkout_purchase, fulfill_checkout,
handle_checkout_event, attach_checkout_session, on a real database."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from tests.dbutil import set_identity

ALICE = "33333333-3333-4333-8333-000000000001"
BOB = "33333333-3333-4333-8333-000000000002"
AUTOPRO = "11111111-1111-4111-8111-000000000001"
CITY_AUTO = "11111111-1111-4111-8111-000000000002"
SHADY = "11111111-1111-4111-8111-000000000004"
NOBODY = "99999999-9999-4999-8999-999999999999"


def counts(conn) -> dict:
    return {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("checkout_purchases", "stripe_events", "sessions", "session_requests")
    }


def raises(conn, sql, params, sqlstate, column):
    with pytest.raises(psycopg.Error) as exc:
        conn.execute(sql, params)
    assert exc.value.sqlstate == sqlstate, exc.value
    assert exc.value.diag.column_name == column, exc.value.diag.message_primary
    return exc.value


def fulfill(conn, cs_id, customer=ALICE, plan="video15", amount=2900, currency="usd", workshop=None,
            routing="broadcast", slot=None, intake=None):
    return conn.execute(
        "SELECT session_id, session_request_id, created, routing_type FROM ssr_private.fulfill_checkout("
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (plan, cs_id, intake, customer, "alice@customer.example", amount, currency, slot, workshop, routing),
    ).fetchone()


# --- create_checkout_purchase -----------------------------------------------------------


def test_purchase_copies_price_from_plan_and_normalises_routing(seeded_conn):
    seeded_conn.execute("UPDATE plans SET price_minor = 3333 WHERE code = 'video15'")
    set_identity(seeded_conn, "customer", ALICE)
    row = seeded_conn.execute(
        "SELECT customer_email, plan_code, amount_minor, currency, routing_type, status, stripe_checkout_session_id "
        "FROM create_checkout_purchase(%s, 'video15', %s, ' HYBRID ')",
        (ALICE, AUTOPRO),
    ).fetchone()
    assert row == ("alice@customer.example", "video15", 3333, "usd", "hybrid", "pending", None)
    set_identity(seeded_conn, "customer", BOB)
    row = seeded_conn.execute("SELECT routing_type FROM create_checkout_purchase(%s, 'diag45', NULL, NULL)", (BOB,)).fetchone()
    assert row == ("broadcast",)


@pytest.mark.parametrize(
    ("customer", "plan", "workshop", "routing", "intake", "sqlstate", "column"),
    [
        (NOBODY, "video15", None, None, None, "SR404", "customer_id"),
        (None, "video15", None, None, None, "SR400", "customer_id"),
        (ALICE, None, None, None, None, "SR400", "plan"),
        (ALICE, " ", None, None, None, "SR400", "plan"),
        (ALICE, "nope", None, None, None, "SR404", "plan"),
        (ALICE, "retired", None, None, None, "SR404", "plan"),
        (ALICE, "video15", NOBODY, "hybrid", None, "SR404", "workshop_id"),
        (ALICE, "video15", SHADY, "workshop_only", None, "SR404", "workshop_id"),
        (ALICE, "video15", None, "workshop_only", None, "SR400", "workshop_id"),
        (ALICE, "video15", AUTOPRO, "closest", None, "SR400", "routing_type"),
        (ALICE, "video15", None, None, NOBODY, "SR404", "intake_id"),
        (ALICE, "video15", None, None, "bobs", "SR404", "intake_id"),
    ],
)
def test_purchase_rejects_bad_input_and_writes_nothing(seeded_conn, customer, plan, workshop, routing, intake,
                                                       sqlstate, column):
    seeded_conn.execute(
        "INSERT INTO plans (code, name, price_minor, currency, duration_minutes, is_active) "
        "VALUES ('retired', 'Old', 100, 'usd', 5, FALSE)"
    )
    if intake == "bobs":
        intake = seeded_conn.execute(
            "INSERT INTO intakes (customer_id, description) VALUES (%s, 'noise') RETURNING id", (BOB,)
        ).fetchone()[0]
    before = counts(seeded_conn)
    set_identity(seeded_conn, "customer", customer)
    raises(seeded_conn, "SELECT * FROM create_checkout_purchase(%s, %s, %s, %s, %s)",
           (customer, plan, workshop, routing, intake), sqlstate, column)
    assert counts(seeded_conn) == before


def test_attach_checkout_session_is_idempotent_and_refuses_another(seeded_conn):
    set_identity(seeded_conn, "customer", ALICE)
    pid = seeded_conn.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,)).fetchone()[0]
    for _ in range(2):
        got = seeded_conn.execute("SELECT stripe_checkout_session_id FROM attach_checkout_session(%s, 'cs_test_a')", (pid,))
        assert got.fetchone() == ("cs_test_a",)
    raises(seeded_conn, "SELECT * FROM attach_checkout_session(%s, 'cs_test_b')", (pid,), "SR409", "purchase_id")
    raises(seeded_conn, "SELECT * FROM attach_checkout_session(%s, 'pi_123')", (pid,), "SR400", "stripe_checkout_session_id")
    raises(seeded_conn, "SELECT * FROM attach_checkout_session(%s, 'cs_test_c')", (NOBODY,), "SR404", "purchase_id")
    # another customer's purchase is unknown to them; no identity at all is refused
    set_identity(seeded_conn, "customer", BOB)
    raises(seeded_conn, "SELECT * FROM attach_checkout_session(%s, 'cs_test_a')", (pid,), "SR404", "purchase_id")
    set_identity(seeded_conn, "customer", None)
    raises(seeded_conn, "SELECT * FROM attach_checkout_session(%s, 'cs_test_a')", (pid,), "SR403", "customer_id")


def test_purchase_is_refused_without_the_customer_identity(seeded_conn):
    before = counts(seeded_conn)
    raises(seeded_conn, "SELECT * FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,),
           "SR403", "customer_id")
    set_identity(seeded_conn, "customer", BOB)
    raises(seeded_conn, "SELECT * FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,),
           "SR403", "customer_id")
    assert counts(seeded_conn) == before


# --- fulfill_checkout -------------------------------------------------------------------


def test_fulfill_creates_session_and_routed_request_once(seeded_conn):
    before = counts(seeded_conn)
    sid, rid, created, routing = fulfill(seeded_conn, "cs_test_once", workshop=AUTOPRO, routing="workshop_only")
    assert created is True and routing == "workshop_only"
    row = seeded_conn.execute(
        "SELECT s.customer_id::text, s.plan_code, s.amount_total_minor, s.currency, s.status, s.preferred_workshop_id::text, "
        "r.session_id, r.routing_type, r.preferred_workshop_id::text, r.status "
        "FROM sessions AS s JOIN session_requests AS r ON r.session_id = s.id WHERE s.id = %s AND r.id = %s",
        (sid, rid),
    ).fetchone()
    assert row == (ALICE, "video15", 2900, "usd", "waiting", AUTOPRO, sid, "workshop_only", AUTOPRO, "pending")
    # Replayed: the same rows, created = false, nothing new.
    assert fulfill(seeded_conn, "cs_test_once", workshop=AUTOPRO, routing="workshop_only") == (
        sid, rid, False, "workshop_only")
    after = counts(seeded_conn)
    assert after["sessions"] == before["sessions"] + 1
    assert after["session_requests"] == before["session_requests"] + 1


def test_replay_returns_what_exists_even_after_the_workshop_was_suspended(seeded_conn):
    sid, rid, created, _ = fulfill(seeded_conn, "cs_test_replay_susp", workshop=AUTOPRO, routing="hybrid")
    assert created is True
    seeded_conn.execute("UPDATE organizations SET status = 'suspended' WHERE id = %s", (AUTOPRO,))
    before = counts(seeded_conn)
    assert fulfill(seeded_conn, "cs_test_replay_susp", workshop=AUTOPRO, routing="hybrid") == (sid, rid, False, "hybrid")
    assert counts(seeded_conn) == before
    # A new purchase for the suspended workshop is refused.
    with pytest.raises(psycopg.Error) as err:
        fulfill(seeded_conn, "cs_test_replay_new", workshop=AUTOPRO, routing="hybrid")
    assert err.value.sqlstate == "SR404"


def test_twenty_concurrent_fulfillments_of_one_checkout_session_create_one(seeded_conn, db_url):
    barrier = threading.Barrier(20)
    results: list = [None] * 20
    errors: list = []

    def worker(i):
        try:
            with psycopg.connect(db_url, autocommit=False) as c:
                barrier.wait()
                results[i] = fulfill(c, "cs_test_storm", routing="hybrid", workshop=AUTOPRO)
                c.commit()
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(1 for r in results if r[2]) == 1
    assert len({(r[0], r[1]) for r in results}) == 1
    n = seeded_conn.execute(
        "SELECT count(*), count(r.id) FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id "
        "WHERE s.stripe_checkout_session_id = 'cs_test_storm'"
    ).fetchone()
    assert n == (1, 1)


def test_a_rolled_back_first_fulfillment_lets_the_next_one_create(seeded_conn, db_url):
    with psycopg.connect(db_url, autocommit=False) as first:
        sid1 = fulfill(first, "cs_test_rb")[0]
        first.rollback()
    sid2, _, created, _ = fulfill(seeded_conn, "cs_test_rb")
    assert created is True and sid2 != sid1


@pytest.mark.parametrize(
    ("kwargs", "sqlstate", "column"),
    [
        ({"amount": 100}, "SR400", "amount_total"),
        ({"amount": None}, "SR400", "amount_total"),
        ({"currency": "eur"}, "SR400", "currency"),
        ({"slot": "5b5b5b5b-5b5b-45b5-85b5-5b5b5b5b5b5b"}, "SR400", "slot_id"),
        ({"plan": "nope"}, "SR404", "plan"),
        ({"customer": NOBODY}, "SR404", "customer_id"),
        ({"routing": "workshop_only"}, "SR400", "workshop_id"),
        ({"workshop": SHADY, "routing": "hybrid"}, "SR404", "workshop_id"),
        ({"intake": NOBODY}, "SR404", "intake_id"),
    ],
)
def test_fulfill_rejects_bad_input_and_writes_nothing(seeded_conn, kwargs, sqlstate, column):
    before = counts(seeded_conn)
    with pytest.raises(psycopg.Error) as exc:
        fulfill(seeded_conn, "cs_test_bad", **kwargs)
    assert (exc.value.sqlstate, exc.value.diag.column_name) == (sqlstate, column)
    assert counts(seeded_conn) == before


def test_fulfill_malformed_stripe_id_and_other_customer(seeded_conn):
    with pytest.raises(psycopg.Error) as exc:
        fulfill(seeded_conn, "pi_123")
    assert (exc.value.sqlstate, exc.value.diag.column_name) == ("SR400", "stripe_session_id")
    fulfill(seeded_conn, "cs_test_mine")
    with pytest.raises(psycopg.Error) as exc:
        fulfill(seeded_conn, "cs_test_mine", customer=BOB)
    assert exc.value.sqlstate == "SR409"


# --- handle_checkout_event --------------------------------------------------------------


def purchase_with_session(conn, cs_id, workshop=None, routing=None, plan="video15"):
    set_identity(conn, "customer", ALICE)
    pid = conn.execute(
        "SELECT id FROM create_checkout_purchase(%s, %s, %s, %s)", (ALICE, plan, workshop, routing)
    ).fetchone()[0]
    conn.execute("SELECT attach_checkout_session(%s, %s)", (pid, cs_id))
    return pid


def handle(conn, event_id, cs_id, pid, paid="paid", amount=2900, currency="usd",
           event_type="checkout.session.completed"):
    return conn.execute(
        "SELECT outcome, purchase_status, session_id, session_request_id, created "
        "FROM handle_checkout_event(%s, %s, FALSE, %s, %s, %s, %s, %s)",
        (event_id, event_type, cs_id, str(pid) if pid else None, paid, amount, currency),
    ).fetchone()


def test_event_is_recorded_once_and_fulfils_once(seeded_conn):
    pid = purchase_with_session(seeded_conn, "cs_test_h1", AUTOPRO, "hybrid")
    outcome, status, sid, rid, created = handle(seeded_conn, "evt_h1", "cs_test_h1", pid)
    assert (outcome, status, created) == ("fulfilled", "fulfilled", True)
    assert handle(seeded_conn, "evt_h1", "cs_test_h1", pid)[0] == "duplicate"
    assert handle(seeded_conn, "evt_h2", "cs_test_h1", pid)[:4] == ("already_fulfilled", "fulfilled", sid, rid)
    assert seeded_conn.execute("SELECT id, outcome FROM stripe_events ORDER BY id").fetchall() == [
        ("evt_h1", "fulfilled"), ("evt_h2", "already_fulfilled")]
    assert seeded_conn.execute(
        "SELECT routing_type, preferred_workshop_id::text FROM session_requests WHERE id = %s", (rid,)
    ).fetchone() == ("hybrid", AUTOPRO)


def test_event_for_another_checkout_session_of_the_purchase_is_not_fulfilled(seeded_conn):
    pid = purchase_with_session(seeded_conn, "cs_test_real")
    before = counts(seeded_conn)
    assert handle(seeded_conn, "evt_sm", "cs_test_other", pid)[0] == "session_mismatch"
    assert counts(seeded_conn) == dict(before, stripe_events=before["stripe_events"] + 1)


def test_purchase_without_recorded_session_adopts_it(seeded_conn):
    set_identity(seeded_conn, "customer", ALICE)
    pid = seeded_conn.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,)).fetchone()[0]
    assert handle(seeded_conn, "evt_adopt", "cs_test_adopt", pid)[0] == "fulfilled"
    assert seeded_conn.execute(
        "SELECT stripe_checkout_session_id FROM checkout_purchases WHERE id = %s", (pid,)).fetchone() == ("cs_test_adopt",)


def test_workshop_suspended_after_payment_fails_the_purchase_instead_of_looping(seeded_conn):
    pid = purchase_with_session(seeded_conn, "cs_test_susp", AUTOPRO, "workshop_only")
    seeded_conn.execute("UPDATE organizations SET status = 'suspended' WHERE id = %s", (AUTOPRO,))
    before = counts(seeded_conn)
    outcome, status, sid, _, _ = handle(seeded_conn, "evt_susp", "cs_test_susp", pid)
    assert (outcome, status, sid) == ("fulfillment_rejected", "failed", None)
    reason = seeded_conn.execute("SELECT failure_reason FROM checkout_purchases WHERE id = %s", (pid,)).fetchone()[0]
    assert reason.startswith("fulfillment_rejected") and "workshop_id" in reason
    assert counts(seeded_conn) == dict(before, stripe_events=before["stripe_events"] + 1)


def next_xid(conn) -> int:
    return int(conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()[0])


def test_a_delivery_takes_one_transaction_id_and_no_subtransaction(seeded_conn):
    # The rules of fulfill_checkout are checked in a block that writes nothing, and the inserts
    # run in the call's own transaction: a fulfilled delivery, a rejected one (refund owed) and
    # a later event for a fulfilled purchase take one transaction id each (a subtransaction that
    # wrote would take a second), a duplicate none.
    pid = purchase_with_session(seeded_conn, "cs_test_xid", AUTOPRO, "hybrid")
    x0 = next_xid(seeded_conn)
    assert handle(seeded_conn, "evt_xid_1", "cs_test_xid", pid)[0] == "fulfilled"
    x1 = next_xid(seeded_conn)
    assert handle(seeded_conn, "evt_xid_1", "cs_test_xid", pid)[0] == "duplicate"
    x2 = next_xid(seeded_conn)
    assert handle(seeded_conn, "evt_xid_2", "cs_test_xid", pid)[0] == "already_fulfilled"
    x3 = next_xid(seeded_conn)
    assert (x1 - x0, x2 - x1, x3 - x2) == (1, 0, 1)

    rejected = purchase_with_session(seeded_conn, "cs_test_xid_rej", CITY_AUTO, "workshop_only")
    seeded_conn.execute("UPDATE organizations SET status = 'suspended' WHERE id = %s", (CITY_AUTO,))
    x4 = next_xid(seeded_conn)
    assert handle(seeded_conn, "evt_xid_3", "cs_test_xid_rej", rejected)[:2] == ("fulfillment_rejected", "failed")
    assert next_xid(seeded_conn) - x4 == 1


def test_plan_price_changed_after_purchase_is_an_amount_mismatch(seeded_conn):
    pid = purchase_with_session(seeded_conn, "cs_test_price")
    seeded_conn.execute("UPDATE plans SET price_minor = 3900 WHERE code = 'video15'")
    assert handle(seeded_conn, "evt_price", "cs_test_price", pid)[:2] == ("amount_mismatch", "failed")


@pytest.mark.parametrize(
    ("event_id", "event_type", "column"),
    [("nope", "checkout.session.completed", "event_id"), (None, "checkout.session.completed", "event_id"),
     ("evt_ok", "", "type")],
)
def test_handle_rejects_bad_event_and_writes_nothing(seeded_conn, event_id, event_type, column):
    before = counts(seeded_conn)
    raises(seeded_conn, "SELECT * FROM handle_checkout_event(%s, %s, FALSE)", (event_id, event_type), "SR400", column)
    assert counts(seeded_conn) == before


def test_failure_inside_the_transaction_leaves_no_event_row(seeded_conn, db_url):
    pid = purchase_with_session(seeded_conn, "cs_test_tx")
    with psycopg.connect(db_url, autocommit=False) as c:
        handle(c, "evt_tx", "cs_test_tx", pid)
        c.rollback()  # e.g. the connection dropped before COMMIT
    assert seeded_conn.execute("SELECT count(*) FROM stripe_events WHERE id = 'evt_tx'").fetchone()[0] == 0
    assert handle(seeded_conn, "evt_tx", "cs_test_tx", pid)[0] == "fulfilled"


def test_unknown_client_reference_is_recorded(seeded_conn):
    assert handle(seeded_conn, "evt_u1", "cs_test_u", None)[0] == "unknown_purchase"
    assert handle(seeded_conn, "evt_u2", "cs_test_u", uuid.uuid4())[0] == "unknown_purchase"
    assert seeded_conn.execute(
        "SELECT count(*) FROM stripe_events WHERE outcome = 'unknown_purchase'").fetchone()[0] == 2
