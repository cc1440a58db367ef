"""The customer's and mechanic's pages without JavaScript, through the WSGI stack with a plain
HTTP client: sign-in from the JWT to a session cookie, CSRF on every form, the booking form
that creates the Checkout Session (303 to Stripe), POST /api/checkout/sessions, the live
success page's JSON status and the dashboard's Accept form."""

from __future__ import annotations

import re
import uuid

import pytest

from app import ConfigError, create_app
from app.db import close_pools
from tests.app.conftest import ALICE, ANA, AUTOPRO, DEV, SHADY, auth, deliver, event_payload, snapshot, token

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(resp) -> str:
    m = CSRF.search(resp.get_data(as_text=True))
    assert m, resp.get_data(as_text=True)[:500]
    return m.group(1)


def signed_in(app, sub=ALICE, role="customer"):
    """A browser-like client signed in through the sign-in form."""
    c = app.test_client()
    page = c.get("/account/sign-in")
    assert page.status_code == 200 and "Access token" in page.get_data(as_text=True)
    resp = c.post("/account/sign-in", data={"token": token(sub, role), "csrf_token": csrf_of(page)})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return c, resp


def book_form(c, workshop=AUTOPRO):
    page = c.get(f"/workshops/{workshop}/book", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.get_data(as_text=True)
    return page, csrf_of(page)


def test_sign_in_from_the_jwt_to_a_signed_httponly_samesite_lax_cookie(app):
    c, resp = signed_in(app)
    assert resp.headers["Location"] == "/workshops/"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("ssr_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Signed in as <strong>Alice</strong>" in c.get("/workshops/").get_data(as_text=True)  # her name, not her role
    # Signing out ends it (with the form's CSRF token).
    _, csrf = book_form(c)
    assert c.post("/account/sign-out").status_code == 403
    assert c.post("/account/sign-out", data={"csrf_token": csrf}).status_code == 303
    assert c.get(f"/workshops/{AUTOPRO}/book").status_code == 303

    # The cookie is signed: a forged one is nobody; signed-out browsers go to sign-in and back.
    anon = app.test_client()
    anon.set_cookie("ssr_session", "eyJqd3QiOiJ4In0.forged.sig")
    resp = anon.get(f"/workshops/{AUTOPRO}/book")
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/account/sign-in?next=")
    assert anon.get("/mechanic/").status_code == 303

    # Bad tokens and missing CSRF tokens sign nobody in.
    for bad, status in (("", 400), ("not-a-jwt", 401), (token(ALICE, "customer", ttl=-10), 401)):
        page = anon.get("/account/sign-in")
        resp = anon.post("/account/sign-in", data={"token": bad, "csrf_token": csrf_of(page)})
        assert resp.status_code == status and resp.mimetype == "text/html"
        assert anon.get(f"/workshops/{AUTOPRO}/book").status_code == 303
    assert anon.post("/account/sign-in", data={"token": token()}).status_code == 403
    assert anon.get(f"/workshops/{AUTOPRO}/book").status_code == 303

    # A token signed out (revoked) cannot sign in again; after signing in, back only to a local page
    # (tokens of their own: one minted in the same second as the revoked one would be that token).
    once = token(jti="signed-out-once")
    assert anon.post("/account/sign-in", data={"token": once, "csrf_token": csrf_of(anon.get("/account/sign-in"))}
                     ).status_code == 303
    assert anon.post("/account/sign-out", data={"csrf_token": csrf_of(anon.get("/account/sign-in"))}).status_code == 303
    revoked = anon.post("/account/sign-in", data={"token": once, "csrf_token": csrf_of(anon.get("/account/sign-in"))})
    assert revoked.status_code == 401 and "revoked" in revoked.get_data(as_text=True)
    resp = anon.post("/account/sign-in", data={"token": token(jti="next-1"), "csrf_token": csrf_of(anon.get("/account/sign-in")),
                                               "next": "https://evil.example/x"})
    assert resp.headers["Location"] == "/workshops/"
    resp = anon.post("/account/sign-in", data={"token": token(jti="next-2"), "csrf_token": csrf_of(anon.get("/account/sign-in")),
                                               "next": f"/workshops/{AUTOPRO}/book"})
    assert resp.headers["Location"] == f"/workshops/{AUTOPRO}/book"


def test_directory_page_lists_ranked_workshops_without_javascript(app, db):
    resp = app.test_client().get("/workshops/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    rows = db.execute("SELECT workshop_name FROM get_workshop_directory(20, 0)").fetchall()
    positions = [html.index(name) for (name,) in rows]
    assert positions == sorted(positions) and "Shady Motors" not in html
    assert f"/workshops/{AUTOPRO}/book" in html and "<caption>" in html
    assert app.test_client().get("/workshops/?page=0").status_code == 400
    bad = app.test_client().get("/workshops/?starting_after=nope", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "starting_after" in bad.get_data(as_text=True)
    assert app.test_client().get("/workshops/?page=2").status_code == 200  # old links still work
    assert app.test_client().get("/").headers["Location"] == "/workshops/"


def test_booking_form_creates_the_checkout_session_and_redirects(app, db, stripe_fake):
    c, _ = signed_in(app)
    page, csrf = book_form(c)
    html = page.get_data(as_text=True)
    for words in ("Only this workshop", "This workshop first, then anyone", "Anyone"):
        assert words in html
    assert re.search(r'<label for="routing-hybrid">', html) and re.search(r'id="routing-hybrid"', html)
    resp = c.post(f"/workshops/{AUTOPRO}/book", data={"plan": "video30", "routing_type": "hybrid", "csrf_token": csrf})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    cs_id = resp.headers["Location"].rsplit("/", 1)[1]
    row = db.execute("SELECT customer_id::text, plan_code, preferred_workshop_id::text, routing_type, amount_minor "
                     "FROM checkout_purchases WHERE stripe_checkout_session_id = %s", (cs_id,)).fetchone()
    assert row == (ALICE, "video30", AUTOPRO, "hybrid", 4900)
    assert stripe_fake.requests[-1]["params"]["metadata[routing_type]"] == "hybrid"


BAD_FORMS = [
    ({"plan": "video15", "routing_type": "hybrid"}, 403, "csrf_token"),
    ({"plan": "nope", "routing_type": "hybrid", "csrf_token": "ok"}, 400, "plan"),
    ({"routing_type": "hybrid", "csrf_token": "ok"}, 400, "plan"),
    ({"plan": "video15", "routing_type": "sideways", "csrf_token": "ok"}, 400, "routing_type"),
    ({"plan": "video15", "routing_type": "hybrid", "intake_id": "x", "csrf_token": "ok"}, 400, "intake_id"),
    ({"plan": "video15", "routing_type": "hybrid", "csrf_token": "wrong"}, 403, "csrf_token"),
]


def test_booking_form_bad_input_is_a_clear_error_and_writes_nothing(app, db):
    c, _ = signed_in(app)
    _, csrf = book_form(c)
    before = snapshot(db)
    for form, status, field in BAD_FORMS:
        if form.get("csrf_token") == "ok":
            form = dict(form, csrf_token=csrf)
        resp = c.post(f"/workshops/{AUTOPRO}/book", data=form)
        assert resp.status_code == status and resp.mimetype == "text/html", form
        assert f"({field})" in resp.get_data(as_text=True)
    assert snapshot(db) == before
    # Only active workshops can be booked, and only by customers.
    assert c.get(f"/workshops/{SHADY}/book").status_code == 404
    assert c.get(f"/workshops/{uuid.uuid4()}/book").status_code == 404
    assert c.get("/workshops/nope/book").status_code == 404
    mechanic, _ = signed_in(app, ANA, "mechanic")
    assert mechanic.get(f"/workshops/{AUTOPRO}/book").status_code == 403


def test_api_checkout_sessions_json_and_form_answer_the_url(app, client, db, stripe_fake):
    resp = client.post("/api/checkout/sessions", json={"plan": "video15", "workshop_id": AUTOPRO,
                                                       "routing_type": "workshop_only"}, headers=auth())
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["url"].endswith("/c/pay/" + body["checkout_session_id"])
    assert stripe_fake.sessions[body["checkout_session_id"]]["metadata"]["routing_type"] == "workshop_only"
    resp = client.post("/api/checkout/sessions", data={"plan": "video15"}, headers=auth())
    assert resp.status_code == 201
    assert db.execute("SELECT count(*) FROM checkout_purchases").fetchone()[0] == 2


BAD_BODIES = [
    ({"json": {"plan": "video15", "workshop_id": "x"}}, 400, "workshop_id"),
    ({"json": {"plan": "video15", "colour": "red"}}, 400, "colour"),
    ({"json": {"plan": 15}}, 400, "plan"),
    ({"json": ["video15"]}, 400, None),
    ({"json": {"plan": "video15", "workshop_id": SHADY, "routing_type": "hybrid"}}, 400, "workshop_id"),
    ({"data": {"routing_type": "hybrid"}}, 400, "plan"),
    ({"json": {"plan": "video15"}, "headers": {}}, 401, None),
    ({"json": {"plan": "video15"}, "headers": auth(ANA, "mechanic")}, 403, None),
]


def test_api_checkout_sessions_bad_input_and_auth(app, client, db):
    before = snapshot(db)
    for kw, status, field in BAD_BODIES:
        resp = client.post("/api/checkout/sessions", **{"headers": auth(), **kw})
        assert resp.status_code == status, kw
        assert resp.get_json()["error"].get("field") == field
    assert snapshot(db) == before
    # With the session cookie: only with the CSRF token.
    c, _ = signed_in(app)
    _, csrf = book_form(c)
    assert c.post("/api/checkout/sessions", json={"plan": "video15"}).status_code == 403
    assert snapshot(db) == before
    resp = c.post("/api/checkout/sessions", json={"plan": "video15"}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201


def test_success_page_is_html_for_browsers_and_json_otherwise(app, client, db, stripe_fake):
    resp = client.post("/api/checkout/sessions", json={"plan": "video15", "workshop_id": AUTOPRO,
                                                       "routing_type": "hybrid"}, headers=auth())
    cs_id = resp.get_json()["checkout_session_id"]
    html = app.test_client().get(f"/checkout/success?session_id={cs_id}", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html" and "Paid, confirming your payment" in html.get_data(as_text=True)
    progress = client.get(f"/api/checkout/sessions/{cs_id}").get_json()
    assert progress["state"] == "confirming" and progress["routing_type"] == "hybrid"

    # Paid, the webhook late: the page itself fulfils (the webhook then finds it done).
    session = stripe_fake.mark_paid(cs_id)
    html = app.test_client().get(f"/checkout/success?session_id={cs_id}",
                                 headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert "Looking for a mechanic" in html.get_data(as_text=True)
    assert deliver(client, event_payload(session)).get_json()["outcome"] == "already_fulfilled"
    assert client.get(f"/checkout/success?session_id={cs_id}").get_json()["fulfilled"] is True
    progress = client.get(f"/api/checkout/sessions/{cs_id}").get_json()
    assert progress["state"] == "searching" and progress["preferred_workshop_name"] == "AutoPro Mechanics"
    assert progress["exclusive_until"] > progress["server_now"]

    ok = client.post(f"/api/session-requests/{progress['session_request_id']}/accept", headers=auth(ANA, "mechanic"))
    assert ok.status_code == 200
    progress = client.get(f"/api/checkout/sessions/{cs_id}").get_json()
    assert (progress["state"], progress["mechanic_name"], progress["workshop_name"]) == (
        "assigned", "Ana Torres", "AutoPro Mechanics")
    assert progress["exclusive_until"] is None
    assert client.get("/api/checkout/sessions/cs_test_nope").status_code == 404
    assert client.get("/api/checkout/sessions/nope").status_code == 404
    assert "Checkout cancelled" in app.test_client().get("/checkout/cancel", headers={"Accept": "text/html"}).get_data(
        as_text=True)


def test_dashboard_lists_offers_and_the_accept_form_takes_one(app, client, db, stripe_fake):
    resp = client.post("/api/checkout/sessions", json={"plan": "video15", "workshop_id": AUTOPRO,
                                                       "routing_type": "workshop_only"}, headers=auth())
    session = stripe_fake.mark_paid(resp.get_json()["checkout_session_id"])
    request_id = deliver(client, event_payload(session)).get_json()["session_request_id"]

    other, _ = signed_in(app, DEV, "mechanic")  # City Auto: workshop_only AutoPro is not for them
    assert request_id not in other.get("/mechanic/").get_data(as_text=True)
    c, resp = signed_in(app, ANA, "mechanic")
    assert resp.headers["Location"] == "/mechanic/"
    page = c.get("/mechanic/")
    assert request_id in page.get_data(as_text=True)
    assert request_id in c.get("/mechanic/offers").get_data(as_text=True)
    csrf = csrf_of(page)
    assert c.post(f"/mechanic/requests/{request_id}/accept").status_code == 403  # no CSRF token
    assert db.execute("SELECT status FROM session_requests WHERE id = %s", (request_id,)).fetchone()[0] == "pending"
    denied = other.post(f"/mechanic/requests/{request_id}/accept", data={"csrf_token": csrf_of(other.get("/mechanic/"))})
    assert denied.status_code == 303
    assert "Could not accept" in other.get("/mechanic/").get_data(as_text=True)
    resp = c.post(f"/mechanic/requests/{request_id}/accept", data={"csrf_token": csrf})
    assert resp.status_code == 303
    assert "Accepted" in c.get("/mechanic/").get_data(as_text=True)
    row = db.execute("SELECT status, mechanic_id::text FROM session_requests WHERE id = %s", (request_id,)).fetchone()
    assert row == ("accepted", ANA)
    # The API's accept takes the cookie too, with the CSRF token in a header.
    assert c.post(f"/api/session-requests/{request_id}/accept", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert c.post(f"/api/session-requests/{request_id}/accept").status_code == 403


def test_demo_sign_in_only_in_demo_mode(app_config, seeded_conn):
    plain = create_app(app_config)
    c = plain.test_client()
    page = c.get("/account/sign-in").get_data(as_text=True)
    assert "Sign in as Alice" not in page
    csrf = CSRF.search(page).group(1)
    assert c.post("/account/demo-sign-in", data={"who": "alice", "csrf_token": csrf}).status_code == 404
    close_pools(plain)

    demo = create_app(dict(app_config, DEMO_SIGN_IN=True))
    c = demo.test_client()
    page = c.get("/account/sign-in").get_data(as_text=True)
    assert "Sign in as Alice (customer)" in page and "Sign in as Ana (mechanic, AutoPro)" in page
    csrf = CSRF.search(page).group(1)
    assert c.post("/account/demo-sign-in", data={"who": "alice"}).status_code == 403
    assert c.post("/account/demo-sign-in", data={"who": "mallory", "csrf_token": csrf}).status_code == 400
    resp = c.post("/account/demo-sign-in", data={"who": "ana", "csrf_token": csrf})
    assert resp.status_code == 303 and resp.headers["Location"] == "/mechanic/"
    assert c.get("/mechanic/").status_code == 200
    close_pools(demo)

    with pytest.raises(ConfigError, match="DEMO_SIGN_IN"):
        create_app(dict(app_config, DEMO_SIGN_IN=True, STRIPE_SECRET_KEY="sk_live_" + "x" * 24))
