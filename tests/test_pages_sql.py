"""The SQL behind the pages: who is signed in, a customer's bookings, a mechanic's dashboard and
figures (the ledger), and the staff pages with their two actions (retry a failed refund, resolve
a Checkout Session), each acting for its person, refused otherwise, the staff actions audited."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.dbutil import set_identity

ALICE = uuid.UUID("33333333-3333-4333-8333-000000000001")
BOB = uuid.UUID("33333333-3333-4333-8333-000000000002")
ANA = uuid.UUID("22222222-2222-4222-8222-000000000001")
AUTOPRO = uuid.UUID("11111111-1111-4111-8111-000000000001")
SAM = uuid.UUID("44444444-4444-4444-8444-000000000001")  # admin
SUE = uuid.UUID("44444444-4444-4444-8444-000000000002")  # support

NEW_FUNCTIONS = (
    "get_signed_in_person(text,uuid)", "get_customer_bookings(uuid,integer)", "get_mechanic_dashboard(uuid)",
    "get_mechanic_figures(uuid,integer)", "get_staff_requests(uuid,integer)", "get_staff_refunds(uuid,text,integer)",
    "get_staff_checkouts(uuid,boolean,integer)", "get_staff_reconciliation_runs(uuid,integer)",
    "get_staff_workshops(uuid,integer)", "get_staff_mechanics(uuid,integer)", "staff_retry_refund(uuid,uuid,text)",
    "staff_resolve_checkout(uuid,text,text)",
)


def refused(conn, sql, params, sqlstate, column=None):
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    assert info.value.sqlstate == sqlstate, info.value
    if column:
        assert info.value.diag.column_name == column, info.value
    return str(info.value)


def rows(conn, sql, params=()):
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(sql, params).fetchall()


def as_(conn, kind, who):
    for k in ("customer", "mechanic", "staff"):
        set_identity(conn, k, who if k == kind else None)


def paid_booking(conn, customer=ALICE, routing="workshop_only", workshop=AUTOPRO, plan="video15"):
    """A purchase through Checkout, paid and fulfilled: (purchase id, cs id, request id, session id)."""
    as_(conn, "customer", customer)
    pid = conn.execute("SELECT id FROM create_checkout_purchase(%s, %s, %s, %s)",
                       (customer, plan, workshop, routing)).fetchone()[0]
    cs = "cs_test_" + uuid.uuid4().hex
    conn.execute("SELECT * FROM attach_checkout_session(%s, %s)", (pid, cs))
    amount, currency = conn.execute("SELECT amount_minor, currency FROM checkout_purchases WHERE id = %s",
                                    (pid,)).fetchone()
    as_(conn, None, None)
    conn.execute("SELECT * FROM fulfill_checkout_purchase(%s, %s, 'paid', %s, %s)", (cs, str(pid), amount, currency))
    rid, sid = conn.execute("SELECT session_request_id, session_id FROM checkout_purchases WHERE id = %s",
                            (pid,)).fetchone()
    assert rid is not None
    return pid, cs, rid, sid


def bookings(conn, customer=ALICE):
    as_(conn, "customer", customer)
    return {b["purchase_id"]: b for b in rows(conn, "SELECT * FROM get_customer_bookings(%s, 50)", (customer,))}


def dashboard(conn, mechanic=ANA):
    as_(conn, "mechanic", mechanic)
    return rows(conn, "SELECT * FROM get_mechanic_dashboard(%s)", (mechanic,))[0]


def mechanic_call(conn, sql, params, mechanic=ANA):
    as_(conn, "mechanic", mechanic)
    return rows(conn, sql, params)


def test_the_signed_in_person_is_named_acting_for_them(seeded_conn):
    c = seeded_conn
    as_(c, "customer", ALICE)
    assert rows(c, "SELECT * FROM get_signed_in_person('customer', %s)", (ALICE,)) == [
        {"role": "customer", "id": ALICE, "name": "Alice", "detail": None}]
    as_(c, "mechanic", ANA)
    assert rows(c, "SELECT name, detail FROM get_signed_in_person('mechanic', %s)", (ANA,)) == [
        {"name": "Ana Torres", "detail": "AutoPro Mechanics"}]
    as_(c, "staff", SUE)
    assert rows(c, "SELECT detail FROM get_signed_in_person('staff', %s)", (SUE,)) == [{"detail": "support"}]
    # Someone else, nobody, a role that is not one, a staff member who left: refused.
    as_(c, "customer", BOB)
    refused(c, "SELECT * FROM get_signed_in_person('customer', %s)", (ALICE,), "SR403", "customer_id")
    as_(c, None, None)
    refused(c, "SELECT * FROM get_signed_in_person('mechanic', %s)", (ANA,), "SR403", "mechanic_id")
    refused(c, "SELECT * FROM get_signed_in_person('admin', %s)", (ANA,), "SR400", "role")
    c.execute("UPDATE staff_members SET is_active = FALSE WHERE id = %s", (SUE,))
    as_(c, "staff", SUE)
    refused(c, "SELECT * FROM get_signed_in_person('staff', %s)", (SUE,), "SR403", "staff_id")
    # A customer the database does not know: no row (the page falls back to the role).
    stranger = uuid.uuid4()
    as_(c, "customer", stranger)
    assert rows(c, "SELECT * FROM get_signed_in_person('customer', %s)", (stranger,)) == []


def test_bookings_follow_a_purchase_from_paid_to_reviewed_and_a_cancel_to_its_refund(seeded_conn):
    c = seeded_conn
    pid, cs, rid, sid = paid_booking(c)
    b = bookings(c)[pid]
    assert (b["state"], b["checkout_session_id"], b["request_id"], b["can_cancel"], b["can_review"]) == (
        "searching", cs, rid, True, False)
    assert b["preferred_workshop_name"] == "AutoPro Mechanics" and b["routing_type"] == "workshop_only"

    mechanic_call(c, "SELECT * FROM accept_session_request(%s, %s)", (rid, ANA))
    b = bookings(c)[pid]
    assert (b["state"], b["mechanic_name"], b["workshop_name"], b["can_cancel"]) == (
        "assigned", "Ana Torres", "AutoPro Mechanics", False)
    mechanic_call(c, "SELECT * FROM start_session(%s, %s)", (sid, ANA))
    assert bookings(c)[pid]["state"] == "live"
    mechanic_call(c, "SELECT * FROM complete_session(%s, %s)", (sid, ANA))
    b = bookings(c)[pid]
    assert (b["state"], b["can_review"], b["review_rating"]) == ("completed", True, None)
    as_(c, "customer", ALICE)
    c.execute("SELECT * FROM review_session(%s, %s, 4, 'Clear advice')", (sid, ALICE))
    b = bookings(c)[pid]
    assert (b["can_review"], b["review_rating"], b["review_comment"]) == (False, 4, "Clear advice")

    # Another booking, cancelled before anyone accepted: the refund owed shows.
    pid2, _, rid2, _ = paid_booking(c, routing="broadcast", workshop=None)
    assert next(iter(bookings(c))) == pid2  # newest first
    c.execute("SELECT * FROM cancel_customer_session_request(%s, %s)", (rid2, ALICE))
    b = bookings(c)[pid2]
    assert (b["state"], b["can_cancel"], b["refund_status"], b["refund_amount_minor"]) == (
        "cancelled", False, "pending", b["amount_minor"])
    # A purchase that never reached Checkout is not a booking; an unpaid one is "unpaid".
    as_(c, "customer", ALICE)
    c.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,))
    unpaid = c.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,)).fetchone()[0]
    c.execute("SELECT * FROM attach_checkout_session(%s, 'cs_test_unpaid')", (unpaid,))
    got = bookings(c)
    assert len(got) == 3 and got[unpaid]["state"] == "unpaid"

    # Bob sees none of Alice's; Alice's list is refused to anyone acting for someone else.
    assert bookings(c, BOB) == {}
    as_(c, "customer", BOB)
    refused(c, "SELECT * FROM get_customer_bookings(%s, 50)", (ALICE,), "SR403", "customer_id")
    refused(c, "SELECT * FROM get_customer_bookings(%s, 0)", (BOB,), "SR400", "limit")


def test_the_dashboard_shows_offers_sessions_and_presence_and_the_figures_match_the_ledger(seeded_conn):
    c = seeded_conn
    as_(c, "mechanic", ANA)
    [before] = rows(c, "SELECT * FROM get_mechanic_figures(%s, 30)", (ANA,))
    earlier = dashboard(c)["sessions"]  # the seed's past sessions of Ana
    assert all(not s["is_open"] for s in earlier) and len(earlier) <= 10
    _, _, rid, sid = paid_booking(c)
    d = dashboard(c)
    assert (d["mechanic_name"], d["workshop_name"], d["online"]) == ("Ana Torres", "AutoPro Mechanics", True)
    assert [o["request_id"] for o in d["offers"]] == [str(rid)]
    assert d["sessions"] == earlier

    mechanic_call(c, "SELECT * FROM accept_session_request(%s, %s)", (rid, ANA))
    d = dashboard(c)
    assert d["offers"] == [] and (d["open_sessions"], d["capacity"]) == (1, 1)
    s = d["sessions"][0]  # open first
    assert d["sessions"][1:] == earlier
    assert (s["session_id"], s["status"], s["customer_name"], s["can_start"], s["can_complete"], s["can_no_show"]) == (
        str(sid), "waiting", "Alice", True, False, True)
    # An illegal move is refused by the database (complete needs a live session).
    as_(c, "mechanic", ANA)
    assert "complete needs a live session" in refused(
        c, "SELECT * FROM complete_session(%s, %s)", (sid, ANA), "SR409", "session_id")
    c.execute("SELECT * FROM start_session(%s, %s)", (sid, ANA))
    assert dashboard(c)["sessions"][0]["can_complete"] is True
    c.execute("SELECT * FROM complete_session(%s, %s)", (sid, ANA))
    s = dashboard(c)["sessions"][0]  # the newest of the recent ones
    assert (s["session_id"], s["status"], s["can_start"], s["can_complete"]) == (str(sid), "completed", False, False)

    # The switch the engine offers by.
    c.execute("SELECT * FROM set_mechanic_presence(%s, FALSE)", (ANA,))
    assert dashboard(c)["online"] is False

    as_(c, "customer", ALICE)
    c.execute("SELECT * FROM review_session(%s, %s, 5, NULL)", (sid, ALICE))
    as_(c, "mechanic", ANA)
    [f] = rows(c, "SELECT * FROM get_mechanic_figures(%s, 30)", (ANA,))
    [ledger] = rows(c, "SELECT sum(gross_minor) AS gross, sum(payee_share_minor) AS share, "
                       "sum(platform_fee_minor) AS fee, min(currency) AS currency FROM analytics.session_ledger "
                       "WHERE mechanic_id = %s AND created_at >= now() - interval '30 days'", (ANA,))
    [mine] = rows(c, "SELECT gross_minor FROM analytics.session_ledger WHERE session_id = %s", (sid,))
    assert (f["sessions_served"] - before["sessions_served"], f["completed"] - before["completed"],
            f["reviews"] - before["reviews"]) == (1, 1, 1)
    assert f["gross_minor"] - before["gross_minor"] == mine["gross_minor"] > 0
    assert (f["gross_minor"], f["share_minor"], f["platform_fee_minor"], f["currency"], f["payee_type"]) == (
        ledger["gross"], ledger["share"], ledger["fee"], ledger["currency"], "workshop")
    assert f["share_minor"] + f["platform_fee_minor"] == f["net_minor"]
    # Another mechanic served nothing: one row of zeros; the period is bounded; nobody else's.
    dev = uuid.UUID("22222222-2222-4222-8222-000000000004")
    as_(c, "mechanic", dev)
    [z] = rows(c, "SELECT * FROM get_mechanic_figures(%s, 7)", (dev,))
    assert (z["sessions_served"], z["share_minor"], z["currency"]) == (0, 0, None)
    refused(c, "SELECT * FROM get_mechanic_figures(%s, 400)", (dev,), "SR400", "days")
    refused(c, "SELECT * FROM get_mechanic_figures(%s, 30)", (ANA,), "SR403", "mechanic_id")
    refused(c, "SELECT * FROM get_mechanic_dashboard(%s)", (ANA,), "SR403", "mechanic_id")


def failed_refund(conn):
    """A cancelled booking whose refund Stripe refused: (refund id, cs id)."""
    _, cs, rid, _ = paid_booking(conn, routing="broadcast", workshop=None)
    as_(conn, "customer", ALICE)
    conn.execute("SELECT * FROM cancel_customer_session_request(%s, %s)", (rid, ALICE))
    ref = conn.execute("SELECT id FROM refunds WHERE session_request_id = %s", (rid,)).fetchone()[0]
    conn.execute("SELECT ssr_private.refund_record_attempt(%s, 'pi_test_1', NULL, NULL, '400: charge disputed', FALSE)",
                 (ref,))
    return ref, cs


def test_staff_retry_a_failed_refund_for_the_worker_audited(seeded_conn):
    c = seeded_conn
    ref, cs = failed_refund(c)
    as_(c, "staff", SUE)
    [r] = rows(c, "SELECT * FROM get_staff_refunds(%s, NULL, 100)", (SUE,))
    assert (r["refund_id"], r["status"], r["can_retry"], r["last_error"], r["stripe_checkout_session_id"]) == (
        ref, "failed", True, "400: charge disputed", cs)
    assert r["stripe_payment_intent_id"] == "pi_test_1" and r["customer_email"] == "alice@customer.example"
    # Nothing is due for the worker until staff hand it back.
    assert c.execute("SELECT count(*) FROM ssr_private.refund_claim_due()").fetchone()[0] == 0
    got = rows(c, "SELECT * FROM staff_retry_refund(%s, %s, 'customer says the dispute is closed')", (SUE, ref))[0]
    assert (got["refund_id"], got["status"], got["attempts"]) == (ref, "pending", 1)
    assert c.execute("SELECT id FROM ssr_private.refund_claim_due()").fetchone()[0] == ref
    audit = rows(c, "SELECT staff_id, action, subject, details FROM ssr_private.staff_actions")
    assert audit == [{"staff_id": SUE, "action": "refund.retry", "subject": str(ref), "details": {
        "note": "customer says the dispute is closed", "last_error": "400: charge disputed", "attempts": 1}}]
    [r] = rows(c, "SELECT * FROM get_staff_refunds(%s, 'pending', 100)", (SUE,))
    assert (r["can_retry"], r["retried_by"], r["retry_note"]) == (False, "Sue Park", "customer says the dispute is closed")
    # Not failed any more: refused with the reason, nothing more written.
    assert "only a failed refund" in refused(c, "SELECT * FROM staff_retry_refund(%s, %s, NULL)", (SUE, ref),
                                             "SR409", "refund_id")
    refused(c, "SELECT * FROM staff_retry_refund(%s, %s, NULL)", (SUE, uuid.uuid4()), "SR404", "refund_id")
    refused(c, "SELECT * FROM staff_retry_refund(%s, %s, %s)", (SUE, ref, "x" * 501), "SR400", "note")
    # Made at Stripe, then failed there: a retry would get the same refund back.
    c.execute("UPDATE refunds SET status = 'failed', stripe_refund_id = 're_test_1', stripe_status = 'failed' "
              "WHERE id = %s", (ref,))
    assert "Stripe Dashboard" in refused(c, "SELECT * FROM staff_retry_refund(%s, %s, NULL)", (SUE, ref), "SR409")
    assert c.execute("SELECT count(*) FROM ssr_private.staff_actions").fetchone()[0] == 1
    # Not staff, or acting for another staff member: refused.
    as_(c, "staff", ALICE)
    refused(c, "SELECT * FROM staff_retry_refund(%s, %s, NULL)", (ALICE, ref), "SR403", "staff_id")
    refused(c, "SELECT * FROM get_staff_refunds(%s, NULL, 100)", (SUE,), "SR403", "staff_id")
    as_(c, "staff", SUE)
    refused(c, "SELECT * FROM get_staff_refunds(%s, 'lost', 100)", (SUE,), "SR400", "status")


def test_staff_resolve_a_checkout_session_with_a_note_audited(seeded_conn):
    c = seeded_conn
    c.execute("SELECT * FROM note_unresolved_checkout_session('cs_test_lost', 'evt_1', 'No such checkout.session', NULL)")
    as_(c, "staff", SAM)
    [u] = rows(c, "SELECT * FROM get_staff_checkouts(%s, FALSE, 100)", (SAM,))
    assert (u["checkout_session_id"], u["attempts"], u["resolved_at"], u["purchase_id"]) == (
        "cs_test_lost", 1, None, None)
    for note in (None, "  "):
        refused(c, "SELECT * FROM staff_resolve_checkout(%s, 'cs_test_lost', %s)", (SAM, note), "SR400", "note")
    refused(c, "SELECT * FROM staff_resolve_checkout(%s, 'pi_x', 'n')", (SAM,), "SR400", "checkout_session_id")
    refused(c, "SELECT * FROM staff_resolve_checkout(%s, 'cs_test_other', 'n')", (SAM,), "SR404", "checkout_session_id")
    got = rows(c, "SELECT * FROM staff_resolve_checkout(%s, 'cs_test_lost', 'a test-mode session: nothing paid')",
               (SAM,))[0]
    assert got["checkout_session_id"] == "cs_test_lost" and got["resolved_at"] is not None
    assert rows(c, "SELECT * FROM get_staff_checkouts(%s, FALSE, 100)", (SAM,)) == []
    [u] = rows(c, "SELECT * FROM get_staff_checkouts(%s, TRUE, 100)", (SAM,))
    assert (u["resolved_by"], u["resolution_note"]) == ("Sam Rivera", "a test-mode session: nothing paid")
    refused(c, "SELECT * FROM staff_resolve_checkout(%s, 'cs_test_lost', 'again')", (SAM,), "SR409")
    [a] = rows(c, "SELECT action, subject, details ->> 'note' AS note FROM ssr_private.staff_actions")
    assert a == {"action": "checkout.resolve", "subject": "cs_test_lost", "note": "a test-mode session: nothing paid"}
    # Seen again unretrievable: open again.
    c.execute("SELECT * FROM note_unresolved_checkout_session('cs_test_lost', 'evt_2', 'still 404', NULL)")
    assert len(rows(c, "SELECT * FROM get_staff_checkouts(%s, FALSE, 100)", (SAM,))) == 1


def test_staff_read_pages_show_the_marketplace(seeded_conn):
    c = seeded_conn
    _, _, rid, _ = paid_booking(c, routing="hybrid")
    run = c.execute("SELECT * FROM ssr_private.reconciliation_run_start(now() - interval '1 day')").fetchone()[0]
    c.execute("SELECT * FROM note_unresolved_checkout_session('cs_test_gone', NULL, '404', %s)", (run,))
    as_(c, "staff", SUE)
    [r] = rows(c, "SELECT * FROM get_staff_requests(%s, 100)", (SUE,))
    assert (r["request_id"], r["routing_type"], r["preferred_workshop_name"], r["customer_name"]) == (
        rid, "hybrid", "AutoPro Mechanics", "Alice")
    assert "Ana Torres" in r["offered_to"] and r["offered_count"] == len(r["offered_to"]) and r["age_seconds"] >= 0
    assert r["exclusive_until"] is not None  # inside the hybrid window: AutoPro's mechanics only
    offered = {row[0] for row in c.execute(
        "SELECT m.name FROM ssr_private.routing_offerable_mechanics AS a JOIN mechanics AS m ON m.id = a.mechanic_id "
        "JOIN session_requests AS r ON r.id = %s WHERE ssr_private.routing_offered(r, a.mechanic_id, a.workshop_id, now())",
        (rid,))}
    assert set(r["offered_to"]) == offered
    [run_row] = rows(c, "SELECT * FROM get_staff_reconciliation_runs(%s, 50)", (SUE,))
    assert (run_row["run_id"], run_row["problems"], run_row["actions"]) == (run, 1, "not_retrievable: 1")
    workshops = {w["name"]: w for w in rows(c, "SELECT * FROM get_staff_workshops(%s, 200)", (SUE,))}
    assert workshops["AutoPro Mechanics"]["pending_requests"] == 1
    assert workshops["AutoPro Mechanics"]["listed"] is True
    mechanics = {m["name"]: m for m in rows(c, "SELECT * FROM get_staff_mechanics(%s, 200)", (SUE,))}
    assert mechanics["Ana Torres"]["state"] == "available" and mechanics["Ana Torres"]["workshop_name"] == "AutoPro Mechanics"
    for sql in ("get_staff_requests(%s, 0)", "get_staff_workshops(%s, 501)", "get_staff_mechanics(%s, NULL)",
                "get_staff_reconciliation_runs(%s, 0)", "get_staff_checkouts(%s, FALSE, 0)"):
        refused(c, "SELECT * FROM " + sql, (SUE,), "SR400", "limit")


def test_a_mechanic_session_forging_staff_is_refused(seeded_conn):
    """The role mechanic (PostgREST-style) that sets app.staff_id or forges claims with role staff
    gains nothing: it may not execute the staff functions, and even granted one, the function acts
    for no staff member (SR403)."""
    c = seeded_conn
    claims = json.dumps({"sub": str(SAM), "role": "staff", "exp": 4102444800})
    forge = ("SELECT set_config('app.staff_id', %s, TRUE), set_config('request.jwt.claims', %s, TRUE)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), c.transaction():
        c.execute("SET LOCAL ROLE mechanic")
        c.execute(forge, (str(SAM), claims))
        c.execute("SELECT * FROM get_staff_refunds(%s, NULL, 100)", (SAM,))
    with pytest.raises(psycopg.Error) as info, c.transaction():
        c.execute("GRANT EXECUTE ON FUNCTION staff_retry_refund(uuid, uuid, text) TO mechanic")
        c.execute("SET LOCAL ROLE mechanic")
        c.execute(forge, (str(SAM), claims))
        c.execute("SELECT * FROM staff_retry_refund(%s, %s, NULL)", (SAM, uuid.uuid4()))
    assert info.value.sqlstate == "SR403" and info.value.diag.column_name == "staff_id"
    assert c.execute("SELECT count(*) FROM ssr_private.staff_actions").fetchone()[0] == 0


def test_the_new_functions_are_the_app_logins_only(seeded_conn):
    for sig in NEW_FUNCTIONS:
        grantees = seeded_conn.execute(
            "SELECT grantees FROM ssr_private.api_functions() WHERE signature = %s", (sig,)).fetchone()
        assert grantees == (["ssr_app"],), sig
        for role, allowed in (("ssr_app", True), ("ssr_payments", False), ("ssr_worker", False), ("mechanic", False),
                              ("analytics", False), ("public", False)):
            if role == "public":
                got = seeded_conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_proc AS p, aclexplode(p.proacl) AS a "
                    "WHERE p.oid = %s::regprocedure AND a.grantee = 0 AND a.privilege_type = 'EXECUTE')", (sig,)
                ).fetchone()[0]
            else:
                got = seeded_conn.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (role, sig)).fetchone()[0]
            assert got is allowed, (sig, role)
