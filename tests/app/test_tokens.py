"""Tokens: exp and iat required and a maximum lifetime (a token valid to year 9999 is refused),
iss and aud required when configured, and sign-out revokes the browser's token in the
database: the API refuses it afterwards (401, the JSON error shape) while other tokens keep
working. The revocation check runs inside the database, in the transaction of the call."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import jwt
import psycopg
import pytest

from app import create_app
from tests.app.conftest import ALICE, ANA, JWT_SECRET, auth, token
from tests.app.test_pages import csrf_of
from tests.dbutil import as_user

OFFERS = "/api/mechanic/requests"  # acts for the mechanic: get_mechanic_offers with app.mechanic_id


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def raw_token(claims: dict, secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def assert_unauthorized(resp, says: str | None = None) -> None:
    assert resp.status_code == 401, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["ok"] is False and body["error"]["code"] == "unauthorized", body
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    if says:
        assert says in body["error"]["message"], body


def test_a_token_valid_until_year_9999_is_refused(client):
    now = int(time.time())
    forever = raw_token({"sub": ANA, "role": "mechanic", "iat": now, "exp": 253402300799})
    assert_unauthorized(client.get(OFFERS, headers=bearer(forever)), "lives longer than 86400 s")


def test_a_token_without_iat_is_refused(client):
    now = int(time.time())
    no_iat = raw_token({"sub": ANA, "role": "mechanic", "exp": now + 300})
    assert_unauthorized(client.get(OFFERS, headers=bearer(no_iat)), "iat")


def test_the_maximum_lifetime_is_configurable_and_inclusive(app_config, seeded_conn):
    app = create_app(dict(app_config, JWT_MAX_LIFETIME_S=600))
    try:
        c = app.test_client()
        assert c.get(OFFERS, headers=auth(ANA, "mechanic", ttl=600)).status_code == 200
        assert_unauthorized(c.get(OFFERS, headers=auth(ANA, "mechanic", ttl=601)), "longer than 600 s")
    finally:
        app.extensions["db_pool"].close()


def test_issuer_and_audience_are_required_when_configured(app_config, seeded_conn):
    app = create_app(dict(app_config, JWT_ISSUER="https://id.ssr.example", JWT_AUDIENCE="ssr-api"))
    try:
        c = app.test_client()
        good = {"iss": "https://id.ssr.example", "aud": "ssr-api"}
        assert c.get(OFFERS, headers=auth(ANA, "mechanic", **good)).status_code == 200
        assert_unauthorized(c.get(OFFERS, headers=auth(ANA, "mechanic")), "claim is required")
        assert_unauthorized(c.get(OFFERS, headers=auth(ANA, "mechanic", aud="ssr-api")), "iss claim is required")
        assert_unauthorized(c.get(OFFERS, headers=auth(ANA, "mechanic", iss=good["iss"])), "aud claim is required")
        assert_unauthorized(c.get(OFFERS, headers=auth(ANA, "mechanic", **dict(good, iss="https://evil.example"))),
                            "wrong issuer")
        assert_unauthorized(c.get(OFFERS, headers=auth(ANA, "mechanic", **dict(good, aud="other-api"))),
                            "wrong audience")
    finally:
        app.extensions["db_pool"].close()


def test_without_issuer_and_audience_configured_tokens_need_neither(client):
    assert client.get(OFFERS, headers=auth(ANA, "mechanic")).status_code == 200


def sign_in_and_out(app, raw: str) -> None:
    c = app.test_client()
    page = c.get("/account/sign-in")
    assert c.post("/account/sign-in", data={"token": raw, "csrf_token": csrf_of(page)}).status_code == 303
    home = c.get("/mechanic/")
    assert home.status_code == 200
    assert c.post("/account/sign-out", data={"csrf_token": csrf_of(home)}).status_code == 303


@pytest.mark.parametrize("with_jti", [True, False])
def test_sign_out_revokes_the_token_and_no_other(app, client, db, with_jti):
    extra = {"jti": "jti-of-test-" + str(with_jti)} if with_jti else {}
    mine = token(ANA, "mechanic", **extra)
    other = token(ANA, "mechanic", ttl=301, **({"jti": "another-jti"} if with_jti else {}))
    assert client.get(OFFERS, headers=bearer(mine)).status_code == 200
    sign_in_and_out(app, mine)

    assert_unauthorized(client.get(OFFERS, headers=bearer(mine)), "revoked")
    # Every call that acts for the token's subject refuses it, writes included.
    resp = client.post("/api/session-requests/00000000-0000-4000-8000-000000000000/accept", headers=bearer(mine))
    assert_unauthorized(resp, "revoked")
    # The same person's other token, and other people's, still work.
    assert client.get(OFFERS, headers=bearer(other)).status_code == 200
    assert client.get(OFFERS, headers=auth(ANA, "mechanic", ttl=302)).status_code == 200  # not the same bytes
    assert client.post("/api/checkout/sessions", json={"plan": "video15"}, headers=auth(ALICE)).status_code == 201
    # Kept until the token's own expiry, by jti or by the token's hash.
    expected_id = ("jti:" + extra["jti"]) if with_jti else "sha256:" + hashlib.sha256(mine.encode()).hexdigest()
    row = db.execute("SELECT token_id, expires_at = to_timestamp(%s) FROM ssr_private.revoked_tokens",
                     (jwt.decode(mine, options={"verify_signature": False})["exp"],)).fetchall()
    assert row == [(expected_id, True)]


def test_signing_in_again_after_sign_out_works(app, db_url):
    sign_in_and_out(app, token(ANA, "mechanic", jti="first-session"))
    sign_in_and_out(app, token(ANA, "mechanic", jti="second-session"))  # its own token: not revoked
    with psycopg.connect(as_user(db_url)) as conn:  # the app's login cannot read or edit the list itself
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM ssr_private.revoked_tokens")


def test_the_database_refuses_a_revoked_token_in_the_transaction_of_the_call(db, db_url):
    """The rule lives in the database: as the app's login, a transaction whose app.token_id is
    revoked acts for nobody (SR401); expired entries are pruned when a token is revoked."""
    with psycopg.connect(as_user(db_url), autocommit=True) as app_conn:
        until = datetime.now(UTC) + timedelta(hours=1)
        assert app_conn.execute("SELECT revoke_token('jti:gone', %s)", (until,)).fetchone()[0] is True
        assert app_conn.execute("SELECT revoke_token('jti:gone', %s)", (until,)).fetchone()[0] is False  # already
        with app_conn.transaction():
            app_conn.execute("SELECT set_config('app.mechanic_id', %s, TRUE), set_config('app.token_id', 'jti:gone', TRUE)",
                             (ANA,))
            with pytest.raises(psycopg.Error) as caught:
                app_conn.execute("SELECT * FROM get_mechanic_offers(%s, 10)", (ANA,))
            assert caught.value.sqlstate == "SR401"
        with app_conn.transaction():
            app_conn.execute("SELECT set_config('app.mechanic_id', %s, TRUE), set_config('app.token_id', 'jti:kept', TRUE)",
                             (ANA,))
            app_conn.execute("SELECT * FROM get_mechanic_offers(%s, 10)", (ANA,))
        for bad in ("gone", "jti:", "sha256:abc", "jti:has space"):
            with pytest.raises(psycopg.Error) as caught:
                app_conn.execute("SELECT revoke_token(%s, now() + interval '1 hour')", (bad,))
            assert caught.value.sqlstate == "SR400"
        # An entry whose token has expired is refused no more (the token is, by its exp) and pruned.
        db.execute("INSERT INTO ssr_private.revoked_tokens (token_id, expires_at) VALUES ('jti:old', now() - interval '1 s')")
        assert app_conn.execute("SELECT revoke_token('jti:new', now() + interval '1 hour')").fetchone()[0] is True
    ids = {r[0] for r in db.execute("SELECT token_id FROM ssr_private.revoked_tokens").fetchall()}
    assert ids == {"jti:gone", "jti:new"}
