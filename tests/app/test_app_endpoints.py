"""Directory, mechanic, success-page endpoints; JSON errors; the OpenAPI file matches the routes."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.app.conftest import (
    ALICE,
    ANA,
    AUTOPRO,
    CITY_AUTO,
    DEV,
    OPENAPI,
    auth,
    deliver,
    event_payload,
    snapshot,
)

WORKSHOP_KEYS = {
    "workshop_id", "workshop_name", "workshop_email", "workshop_status", "total_mechanics",
    "available_mechanics", "avg_rating", "total_sessions", "created_at",
}


def paid_request(client, db, stripe_fake, query):
    resp = client.get(f"/api/checkout/create-session?{query}", headers=auth())
    assert resp.status_code == 303, resp.get_json()
    cs_id = resp.headers["Location"].rsplit("/", 1)[1]  # this checkout's session, not "the latest" by timestamp
    session = stripe_fake.mark_paid(cs_id)
    r = deliver(client, event_payload(session))
    assert r.get_json()["outcome"] == "fulfilled", r.get_json()
    return cs_id, r.get_json()["session_request_id"]


# --- directory ----------------------------------------------------------------------------


def test_directory_has_the_spec_shape_and_the_database_rows(client, db):
    resp = client.get("/api/workshops/directory?limit=20&offset=0")
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"ok", "workshops", "total", "limit", "offset", "has_more", "next_cursor", "previous_cursor",
                         "links"}
    assert body["ok"] is True and body["limit"] == 20 and body["offset"] == 0
    assert body["has_more"] is False and body["links"] == {"next": None, "previous": None}
    expected = db.execute(
        "SELECT workshop_id::text, workshop_name, available_mechanics, total_count FROM get_workshop_directory(20, 0)"
    ).fetchall()
    assert [(w["workshop_id"], w["workshop_name"], w["available_mechanics"]) for w in body["workshops"]] == [
        e[:3] for e in expected
    ]
    assert body["total"] == expected[0][3]
    assert all(set(w) == WORKSHOP_KEYS for w in body["workshops"])
    names = {w["workshop_name"] for w in body["workshops"]}
    assert "AutoPro Mechanics" in names and "Shady Motors" not in names
    assert all(w["workshop_status"] == "active" for w in body["workshops"])


def test_directory_pages(client, db):
    total = client.get("/api/workshops/directory").get_json()["total"]
    assert total >= 2
    first = client.get("/api/workshops/directory?limit=1&offset=0").get_json()
    second = client.get("/api/workshops/directory?limit=1&offset=1").get_json()
    assert len(first["workshops"]) == len(second["workshops"]) == 1
    assert first["workshops"][0]["workshop_id"] != second["workshops"][0]["workshop_id"]
    past = client.get(f"/api/workshops/directory?limit=5&offset={total + 10}").get_json()
    assert past["workshops"] == [] and past["total"] == total


def test_directory_cursor_links_walk_both_ways(client, db):
    """next / previous links (cursors, never offsets) walk the whole list one row a page, forward and back."""
    everyone = [w["workshop_id"] for w in client.get("/api/workshops/directory?limit=100").get_json()["workshops"]]
    assert len(everyone) >= 2
    seen, url, pages = [], "/api/workshops/directory?limit=1", []
    while url:
        body = client.get(url).get_json()
        assert body["total"] == len(everyone) and "offset=" not in (body["links"]["next"] or "")
        seen += [w["workshop_id"] for w in body["workshops"]]
        pages.append(body)
        assert body["has_more"] == (body["links"]["next"] is not None)
        url = body["links"]["next"]
    assert seen == everyone
    assert pages[0]["links"]["previous"] is None and pages[-1]["previous_cursor"] is not None
    back, url = [], pages[-1]["links"]["previous"]
    while url:
        body = client.get(url).get_json()
        back = [w["workshop_id"] for w in body["workshops"]] + back
        assert body["links"]["next"] is not None
        url = body["links"]["previous"]
    assert back == everyone[:-1]
    cursor = pages[0]["next_cursor"]
    assert client.get(f"/api/workshops/directory?limit=1&starting_after={cursor}").get_json()["workshops"] == [
        {**pages[1]["workshops"][0]}]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-5", "limit"), ("limit=abc", "limit"),
        ("limit=", "limit"), ("limit=1.5", "limit"), ("limit=99999999999999", "limit"),
        ("offset=-1", "offset"), ("offset=x", "offset"), ("offset=", "offset"),
        ("limit=10&limit=20", "limit"), ("page=2", "page"),
    ],
)
def test_directory_bad_parameter_is_400_naming_it(client, db, query, field):
    before = snapshot(db)
    resp = client.get(f"/api/workshops/directory?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["field"] == field
    assert snapshot(db) == before


def test_directory_bad_cursor_is_400_naming_it(client, db):
    before = snapshot(db)
    good = client.get("/api/workshops/directory?limit=1").get_json()["next_cursor"]
    for query, field in [
        ("starting_after=nope", "starting_after"), ("starting_after=", "starting_after"),
        ("ending_before=%F0%9F%98%80", "ending_before"), ("starting_after=" + "A" * 300, "starting_after"),
        ("starting_after=dzEsMSwyLDM", "starting_after"), ("offset=5&ending_before=dzE", "ending_before"),
        (f"starting_after={good}&ending_before={good}", "ending_before"), (f"offset=3&starting_after={good}", "offset"),
        ("starting_after=a%00b", "starting_after"),
    ]:
        resp = client.get(f"/api/workshops/directory?{query}")
        assert resp.status_code == 400, query
        assert resp.get_json()["error"]["field"] == field, query
    assert snapshot(db) == before


def test_directory_function_validates_pagination_too(db):
    import psycopg

    for limit, offset, field in [(0, 0, "limit"), (101, 0, "limit"), (10, -1, "offset")]:
        with pytest.raises(psycopg.Error) as exc:
            db.execute("SELECT * FROM get_workshop_directory(%s, %s)", (limit, offset))
        assert exc.value.sqlstate == "SR400" and exc.value.diag.column_name == field


# --- success page ----------------------------------------------------------------------


def test_success_page_fulfils_when_paid_and_the_late_webhook_finds_it_done(client, db, stripe_fake):
    resp = client.get("/api/checkout/create-session?plan=video15", headers=auth())
    cs_id = db.execute("SELECT stripe_checkout_session_id FROM checkout_purchases").fetchone()[0]
    # Not paid yet: the page shows the purchase pending and writes nothing.
    before = snapshot(db)
    body = client.get(f"/checkout/success?session_id={cs_id}").get_json()
    assert (body["payment_status"], body["purchase_status"], body["fulfilled"]) == ("unpaid", "pending", False)
    assert body["fulfillment_outcome"] is None
    assert snapshot(db) == before

    stripe_fake.mark_paid(cs_id)  # paid; the webhook is late
    page = client.get(f"/checkout/success?session_id={cs_id}")
    assert page.status_code == 200
    body = page.get_json()
    assert body["payment_status"] == "paid" and body["fulfillment_outcome"] == "fulfilled"
    assert body["purchase_status"] == "fulfilled" and body["fulfilled"] is True
    assert body["request_status"] == "pending"
    assert snapshot(db) == dict(before, sessions=before["sessions"] + 1, session_requests=before["session_requests"] + 1)
    assert cs_id in stripe_fake.retrievals
    # Reloading the page does not fulfil twice.
    again = client.get(f"/checkout/success?session_id={cs_id}").get_json()
    assert again["fulfillment_outcome"] == "already_fulfilled" and again["session_id"] == body["session_id"]

    # The webhook arrives: done already, nothing more is written but the event.
    resp = deliver(client, event_payload(stripe_fake.sessions[cs_id]))
    assert resp.status_code == 200 and resp.get_json()["outcome"] == "already_fulfilled"
    assert resp.get_json()["session_request_id"] == body["session_request_id"]
    assert snapshot(db) == dict(before, sessions=before["sessions"] + 1, session_requests=before["session_requests"] + 1,
                                stripe_events=before["stripe_events"] + 1)


@pytest.mark.parametrize(("query", "status"), [("", 400), ("session_id=abc", 400), ("session_id=cs_test_nope", 404)])
def test_success_page_bad_or_unknown_session(client, query, status):
    assert client.get(f"/checkout/success?{query}").status_code == status


# --- mechanics -------------------------------------------------------------------------


def test_mechanic_sees_and_accepts_a_paid_workshop_request(client, db, stripe_fake):
    _, request_id = paid_request(client, db, stripe_fake, f"plan=video15&workshop_id={AUTOPRO}&routing_type=workshop_only")
    offers = client.get("/api/mechanic/requests", headers=auth(ANA, "mechanic"))
    assert offers.status_code == 200
    assert request_id in [o["request_id"] for o in offers.get_json()["requests"]]
    # workshop_only: a City Auto mechanic is not offered it and may not take it.
    other = client.get("/api/mechanic/requests", headers=auth(DEV, "mechanic")).get_json()["requests"]
    assert request_id not in [o["request_id"] for o in other]
    denied = client.post(f"/api/session-requests/{request_id}/accept", headers=auth(DEV, "mechanic"))
    assert denied.status_code == 403

    ok = client.post(f"/api/session-requests/{request_id}/accept", headers=auth(ANA, "mechanic"))
    assert ok.status_code == 200, ok.get_json()
    row = db.execute("SELECT status, mechanic_id, workshop_id FROM session_requests WHERE id = %s", (request_id,)).fetchone()
    assert (row[0], str(row[1]), str(row[2])) == ("accepted", ANA, AUTOPRO)
    # Taken: a colleague who was offered it gets a conflict.
    ben = "22222222-2222-4222-8222-000000000002"
    late = client.post(f"/api/session-requests/{request_id}/accept", headers=auth(ben, "mechanic"))
    assert late.status_code == 409
    assert db.execute("SELECT mechanic_id FROM session_requests WHERE id = %s", (request_id,)).fetchone()[0] == uuid.UUID(ANA)


def test_accept_unknown_or_malformed_request_is_404(client, db):
    before = snapshot(db)
    assert client.post(f"/api/session-requests/{uuid.uuid4()}/accept", headers=auth(DEV, "mechanic")).status_code == 404
    assert client.post("/api/session-requests/not-a-uuid/accept", headers=auth(DEV, "mechanic")).status_code == 404
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/api/mechanic/requests"), ("POST", "/api/session-requests/00000000-0000-4000-8000-00000000abcd/accept")],
)
def test_mechanic_endpoints_need_a_mechanic_token(client, db, method, url):
    assert client.open(method, url).status_code == 401
    assert client.open(method, url, headers=auth(ALICE, "customer")).status_code == 403


def test_mechanic_offers_bad_limit_is_400(client):
    resp = client.get("/api/mechanic/requests?limit=0", headers=auth(CITY_AUTO, "mechanic"))
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "limit"


# --- JSON everywhere, OpenAPI ----------------------------------------------------------


def test_errors_are_json_not_html(client):
    r = client.get("/nope")
    assert r.status_code == 404 and r.is_json and r.get_json()["ok"] is False
    r = client.get("/api/stripe/webhook")
    assert r.status_code == 405 and r.is_json and "POST" in r.headers["Allow"]


def test_openapi_is_served_and_matches_the_routes(app, client):
    served = client.get("/api/openapi.json")
    assert served.status_code == 200
    doc = json.loads(served.data)
    assert doc == OPENAPI and doc["openapi"].startswith("3.1")

    routes = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops if m in {"get", "post", "put", "patch", "delete"}}
    assert routes == documented
    for path, ops in doc["paths"].items():
        for name in (n for n in path.split("/") if n.startswith("{")):
            for op in ops.values():
                assert any(p["in"] == "path" and p["name"] == name[1:-1] for p in op.get("parameters", []))
        for op in ops.values():
            assert op["responses"], path
            assert "default" in op["responses"], path
