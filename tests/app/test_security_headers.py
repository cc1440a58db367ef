"""The browser's security headers on every kind of response: pages, JSON, JSON and HTML errors,
redirects, static files, the webhook's refusals, an unexpected 500, and (over real HTTP under
gunicorn) the mechanic's event stream. The browser side (the pages work under the policy, no
violation) is tests/app/test_browser_csp.py."""

from __future__ import annotations

import urllib.request

import pytest

from app import create_app
from tests.app.conftest import ANA, AUTOPRO, auth
from tests.app.live_server import serve
from tests.app.sse import SSEClient

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def directives(resp_headers) -> dict[str, list[str]]:
    csp = resp_headers.get("Content-Security-Policy")
    assert csp, "no Content-Security-Policy"
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_secure(resp_headers, https: bool = True) -> None:
    for name, value in EXPECTED.items():
        assert resp_headers.get(name) == value, (name, resp_headers.get(name))
    d = directives(resp_headers)
    assert d["frame-ancestors"] == ["'none'"]
    assert d["default-src"] == ["'none'"]
    assert d["script-src"] == ["'self'"] and d["style-src"] == ["'self'"]
    assert d["connect-src"] == ["'self'"]
    assert "'self'" in d["form-action"] and "https://checkout.stripe.com" in d["form-action"]
    csp = resp_headers.get("Content-Security-Policy")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    hsts = resp_headers.get("Strict-Transport-Security")
    if https:
        assert hsts and hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 15552000
    else:
        assert hsts is None


@pytest.fixture
def raw(app):
    """The plain Flask test client (any status, any content type)."""
    return app.test_client()


@pytest.mark.parametrize(("method", "url", "kw", "status"), [
    ("GET", "/workshops/", {}, 200),                                               # an HTML page
    ("GET", "/account/sign-in", {}, 200),
    ("GET", "/api/workshops/directory", {}, 200),                                  # JSON
    ("GET", "/healthz", {}, 200),
    ("GET", "/static/style.css", {}, 200),                                         # static files
    ("GET", "/static/dashboard.js", {}, 200),
    ("GET", "/static/nothing.js", {}, 404),
    ("GET", "/no/such/path", {}, 404),                                             # unrouted: JSON 404
    ("DELETE", "/healthz", {}, 405),
    ("GET", "/api/mechanic/requests", {}, 401),                                      # JSON 401
    ("GET", "/api/mechanic/requests", {"headers": auth()}, 403),                     # JSON 403
    ("GET", f"/workshops/{AUTOPRO}/book", {}, 303),                                # redirect to sign in
    ("GET", "/workshops/not-a-uuid/book", {"headers": auth()}, 404),               # HTML error page
    ("GET", "/checkout/success?session_id=nope", {"headers": {"Accept": "text/html"}}, 400),
    ("POST", "/api/stripe/webhook", {"data": b"{}"}, 400),                         # the webhook's refusal
    ("GET", "/checkout/cancel", {"headers": {"Accept": "text/html"}}, 200),
])
def test_every_kind_of_response_carries_the_headers(raw, method, url, kw, status):
    resp = raw.open(url, method=method, **kw)
    assert resp.status_code == status, resp.data[:300]
    assert_secure(resp.headers)


def test_an_unexpected_error_carries_them_too(app_config, seeded_conn):
    application = create_app(app_config)

    def boom():
        raise RuntimeError("unexpected")

    application.add_url_rule("/test-boom", "test_boom", boom)
    try:
        resp = application.test_client().get("/test-boom")
        assert resp.status_code == 500 and resp.json["error"]["code"] == "internal_error"
        assert_secure(resp.headers)
    finally:
        application.extensions["db_pool"].close()


def test_hsts_only_when_the_public_url_is_https(app_config, seeded_conn):
    application = create_app(dict(app_config, PUBLIC_BASE_URL="http://127.0.0.1:8000"))
    try:
        resp = application.test_client().get("/workshops/")
        assert_secure(resp.headers, https=False)
    finally:
        application.extensions["db_pool"].close()


def test_form_action_allows_the_configured_stripe_checkout_origin(raw, app_config):
    """The booking form's 303 goes to Stripe's hosted page: with STRIPE_API_BASE (the local fake
    that plays it) that origin is allowed as a form target too, and nothing else is."""
    d = directives(raw.get("/workshops/").headers)
    fake_origin = app_config["STRIPE_API_BASE"].rstrip("/")
    assert d["form-action"] == ["'self'", "https://checkout.stripe.com", fake_origin]


def test_the_event_stream_and_static_files_over_http_carry_the_headers(app_config, seeded_conn):
    with serve(app_config, workers=1) as (base, _fake, _proc):
        stream = SSEClient(base, headers=auth(ANA, "mechanic"))
        try:
            assert stream.status == 200
            assert stream.response.getheader("Content-Type").startswith("text/event-stream")
            assert_secure(stream.response.headers, https=False)  # serve() gives the app an http:// URL
        finally:
            stream.conn.close()
        with urllib.request.urlopen(base + "/static/success.js") as r:  # noqa: S310 - the local test server
            assert r.status == 200
            assert_secure(r.headers, https=False)
