"""The pages of the three roles without JavaScript, through the WSGI stack: a customer's bookings
(cancel with its refund, review), a mechanic's dashboard (presence, decline, start, complete,
no-show; a move the database refuses is shown with its message, never a 5xx) and figures, and the
staff pages (granted in the database: a staff token for someone not on the staff signs nobody in)
with their two audited actions. Every form needs the session's CSRF token."""

from __future__ import annotations

import re
import uuid

from tests.app.conftest import ALICE, ANA, AUTOPRO
from tests.app.test_pages import csrf_of
from tests.app.test_pages import signed_in as _signed_in

SAM = "44444444-4444-4444-8444-000000000001"
BOB = "33333333-3333-4333-8333-000000000002"
HTML = {"Accept": "text/html"}


def signed_in(app, sub, role):
    c, _ = _signed_in(app, sub, role)
    return c


def page(c, url, status=200):
    resp = c.get(url, headers=HTML)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:800])
    return resp.get_data(as_text=True)


def post(c, url, csrf_page, **data):
    resp = c.post(url, data={"csrf_token": csrf_of(c.get(csrf_page, headers=HTML)), **data}, headers=HTML)
    assert resp.status_code == 303, (url, resp.status_code, resp.get_data(as_text=True)[:800])
    return page(c, resp.headers["Location"])


def flash(body: str) -> list[str]:
    return [re.sub(r"\s+", " ", m) for m in re.findall(r'<p class="flash [a-z]+" role="\w+">(.*?)</p>', body, re.S)]


def paid(db, routing="broadcast", workshop=None, cs=None):
    """A paid, fulfilled booking of Alice: (request id, session id, cs id)."""
    cs = cs or "cs_test_" + uuid.uuid4().hex
    pid = db.execute(
        "INSERT INTO checkout_purchases (customer_id, customer_email, plan_code, amount_minor, currency, "
        "preferred_workshop_id, routing_type, stripe_checkout_session_id) "
        "VALUES (%s, 'alice@customer.example', 'video15', 2900, 'usd', %s, %s, %s) RETURNING id",
        (ALICE, workshop, routing, cs)).fetchone()[0]
    db.execute("SELECT * FROM fulfill_checkout_purchase(%s, %s, 'paid', 2900, 'usd')", (cs, str(pid)))
    rid, sid = db.execute("SELECT session_request_id, session_id FROM checkout_purchases WHERE id = %s",
                          (pid,)).fetchone()
    return str(rid), str(sid), cs


def test_alice_cancels_a_pending_booking_and_reviews_a_completed_one(app, db):
    rid, _, cs = paid(db)
    alice = signed_in(app, ALICE, "customer")
    body = page(alice, "/bookings/")
    assert "Signed in as <strong>Alice</strong>" in body and "Looking for a mechanic" in body
    assert f'href="/checkout/success?session_id={cs}"' in body
    body = post(alice, f"/bookings/requests/{rid}/cancel", "/bookings/")
    assert flash(body) == ["Your request is cancelled. We are refunding 29.00 USD to you in full."]
    assert "Refunding 29.00 USD to you in full" in body and f"/bookings/requests/{rid}/cancel" not in body
    # Cancelling again: the database's refusal, shown, nothing changed.
    body = post(alice, f"/bookings/requests/{rid}/cancel", "/bookings/")
    assert flash(body) == [f"Could not cancel: session request {rid} is cancelled, not pending"]

    rid2, sid2, _ = paid(db)
    db.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (ANA,))
    for sql in ("SELECT * FROM accept_session_request(%s, %s)",):
        db.execute(sql, (rid2, ANA))
    db.execute("SELECT * FROM start_session(%s, %s)", (sid2, ANA))
    body = page(alice, "/bookings/")
    assert "In progress" in body and f"/bookings/sessions/{sid2}/review" not in body
    db.execute("SELECT * FROM complete_session(%s, %s)", (sid2, ANA))
    body = page(alice, "/bookings/")
    assert f"/bookings/sessions/{sid2}/review" in body and "How was your session with Ana Torres?" in body
    body = post(alice, f"/bookings/sessions/{sid2}/review", "/bookings/", rating="9", comment="")
    assert flash(body) == ["Could not save your review: rating must be an integer from 1 to 5 (got 9)"]
    body = post(alice, f"/bookings/sessions/{sid2}/review", "/bookings/", rating="5", comment="Found it fast")
    assert flash(body) == ["Thank you: your review is published."] and "5 / 5: “Found it fast”" in body
    # Without the CSRF token: refused, nothing written.
    resp = alice.post(f"/bookings/requests/{rid2}/cancel", headers=HTML)
    assert resp.status_code == 403
    # Bob sees none of it; a mechanic is not a customer.
    assert "You have no booking yet" in page(signed_in(app, BOB, "customer"), "/bookings/")
    page(signed_in(app, ANA, "mechanic"), "/bookings/", 403)


def test_ana_goes_offline_declines_and_moves_her_session_with_the_databases_refusals(app, db):
    rid, _, _ = paid(db, "workshop_only", AUTOPRO)
    ana = signed_in(app, ANA, "mechanic")
    body = page(ana, "/mechanic/")
    assert "Signed in as <strong>Ana Torres</strong>" in body and "(AutoPro Mechanics)" in body
    assert f'data-request-id="{rid}"' in body and f"/mechanic/requests/{rid}/decline" in body
    body = post(ana, "/mechanic/presence", "/mechanic/", online="0")
    assert flash(body) == ["You are offline: nothing is offered to you until you go online."]
    assert db.execute("SELECT is_available FROM mechanics WHERE id = %s", (ANA,)).fetchone() == (False,)
    assert f'data-request-id="{rid}"' not in body and "Go online" in body
    body = post(ana, "/mechanic/presence", "/mechanic/", online="1")
    assert "You are online" in flash(body)[0] and f'data-request-id="{rid}"' in body
    body = post(ana, f"/mechanic/requests/{rid}/decline", "/mechanic/", reason="no scanner for this make")
    assert flash(body) == ["Declined: it will not be offered to you again."]
    assert db.execute("SELECT reason FROM session_request_declines WHERE request_id = %s AND mechanic_id = %s",
                      (rid, ANA)).fetchone() == ("no scanner for this make",)
    assert f'data-request-id="{rid}"' not in body

    rid2, sid2, _ = paid(db)
    post(ana, f"/mechanic/requests/{rid2}/accept", "/mechanic/")
    body = page(ana, "/mechanic/")
    assert f'data-session-id="{sid2}" data-status="waiting"' in body and f'id="start-{sid2}"' in body
    # Complete before Start: the database refuses, its message shown, the page still works.
    resp = ana.post(f"/mechanic/sessions/{sid2}/complete", headers=HTML,
                    data={"csrf_token": csrf_of(ana.get("/mechanic/", headers=HTML))})
    assert resp.status_code == 303
    body = page(ana, resp.headers["Location"])
    assert flash(body) == [f"Could not complete: session {sid2} is waiting: complete needs a live session"]
    body = post(ana, f"/mechanic/sessions/{sid2}/start", "/mechanic/")
    assert flash(body) == ["Started: the session is live."] and f'id="complete-{sid2}"' in body
    body = post(ana, f"/mechanic/sessions/{sid2}/no-show", "/mechanic/")
    assert flash(body)[0].startswith("Could not mark it a no-show: ")
    body = post(ana, f"/mechanic/sessions/{sid2}/complete", "/mechanic/")
    assert flash(body)[0].startswith("Completed") and f'data-session-id="{sid2}" data-status="completed"' in body

    body = page(ana, "/mechanic/figures?days=7")
    assert re.search(r'id="fig-completed">(\d+)<', body)
    share = db.execute("SELECT sum(payee_share_minor) FROM analytics.session_ledger WHERE mechanic_id = %s "
                       "AND created_at >= now() - interval '7 days'", (ANA,)).fetchone()[0]
    assert f"{share / 100:.2f} USD to your workshop" in body
    page(ana, "/mechanic/figures?days=999", 400)


def test_staff_pages_are_granted_in_the_database_and_their_actions_audited(app, db):
    # A staff token for someone who is not on the staff signs nobody in.
    anon = app.test_client()
    from tests.app.conftest import token
    resp = anon.post("/account/sign-in", data={"token": token(ALICE, "staff"),
                                               "csrf_token": csrf_of(anon.get("/account/sign-in"))})
    assert resp.status_code == 403 and "not an active staff member" in resp.get_data(as_text=True)
    assert anon.get("/staff/requests", headers=HTML).status_code == 303  # not signed in

    rid, _, cs = paid(db)
    alice = signed_in(app, ALICE, "customer")
    post(alice, f"/bookings/requests/{rid}/cancel", "/bookings/")
    ref = str(db.execute("SELECT id FROM refunds WHERE session_request_id = %s", (rid,)).fetchone()[0])
    db.execute("SELECT ssr_private.refund_record_attempt(%s, 'pi_test_9', NULL, NULL, '400: disputed', FALSE)", (ref,))
    db.execute("SELECT * FROM note_unresolved_checkout_session('cs_test_lost_1', 'evt_9', 'No such session', NULL)")
    page(alice, "/staff/refunds", 403)

    sam = signed_in(app, SAM, "staff")
    body = page(sam, "/staff/requests")
    assert "Signed in as <strong>Sam Rivera</strong>" in body and "(admin)" in body
    for url, expect in (("/staff/reconciliation", "No reconciliation has run yet"), ("/staff/workshops", "AutoPro Mechanics"),
                        ("/staff/mechanics", "Ana Torres"), ("/staff/checkouts", "cs_test_lost_1")):
        assert expect in page(sam, url), url
    body = page(sam, "/staff/refunds")
    assert "400: disputed" in body and cs in body and "pi_test_9" in body and f'id="retry-{ref}"' in body
    body = post(sam, f"/staff/refunds/{ref}/retry", "/staff/refunds", note="dispute closed")
    assert flash(body) == ["Handed back to the refund worker: it retries the refund within seconds."]
    assert "by Sam Rivera" in body and f'id="retry-{ref}"' not in body
    body = post(sam, f"/staff/refunds/{ref}/retry", "/staff/refunds")
    assert flash(body) == [f"Could not retry: refund {ref} is pending: only a failed refund can be retried"]
    body = post(sam, "/staff/checkouts/cs_test_lost_1/resolve", "/staff/checkouts", note="")
    assert flash(body) == ["Could not resolve: note is required: say what you checked and what was done"]
    body = post(sam, "/staff/checkouts/cs_test_lost_1/resolve", "/staff/checkouts", note="test-mode session, unpaid")
    assert flash(body) == ["cs_test_lost_1 is resolved: reconciliation stops retrying it."]
    assert "No unresolved Checkout Session" in body
    assert "by Sam Rivera: “test-mode session, unpaid”" in page(sam, "/staff/checkouts?all=1")
    audit = db.execute("SELECT action, subject FROM ssr_private.staff_actions ORDER BY id").fetchall()
    assert audit == [("refund.retry", ref), ("checkout.resolve", "cs_test_lost_1")]
    page(sam, "/staff/refunds?status=lost", 400)
    # A staff member who left is refused by the database from the next page on.
    db.execute("UPDATE staff_members SET is_active = FALSE WHERE id = %s", (SAM,))
    assert "not an active staff member" in page(sam, "/staff/requests", 403)


def test_ana_sees_why_the_engine_took_her_offline_and_her_reliability(app, db):
    """The dashboard says why the engine set her away (unanswered offers) and how she comes back,
    and shows her rank score and acceptance as get_mechanic_reliability computes them."""
    db.execute("UPDATE mechanics SET is_available = FALSE, away_reason = 'offers_timed_out', away_at = now() "
               "WHERE id = %s", (ANA,))
    ana = signed_in(app, ANA, "mechanic")
    body = page(ana, "/mechanic/")
    assert "because several offers in a row went unanswered" in body and "I&#39;m back: go online" in body
    db.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (ANA,))
    rel = db.execute("SELECT rank_score, acceptance_rate, acceptance_offers, minimum_count "
                     "FROM get_mechanic_reliability(%s)", (ANA,)).fetchone()
    db.execute("RESET app.mechanic_id")
    assert re.search(r'id="rel-score">([-0-9.]+)<', body).group(1) == f"{rel[0]:.2f}"
    acceptance = re.search(r'id="rel-acceptance">(.*?)</dd>', body).group(1)
    if rel[1] is None:
        assert acceptance == f"not counted yet: {rel[2] or 0} of {rel[3]} offers"
    else:
        assert acceptance.startswith(f"{rel[1] * 100:.0f} %")
    body = post(ana, "/mechanic/presence", "/mechanic/", online="1")
    assert "You are online" in flash(body)[0] and "went unanswered" not in body
    assert db.execute("SELECT is_available, away_reason FROM mechanics WHERE id = %s", (ANA,)).fetchone() == (True, None)
