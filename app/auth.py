"""Who is calling: HS256 JWTs with `sub` (a UUID) and `role` (customer | mechanic | staff), the
PostgREST/Supabase convention, signed with JWT_SECRET. A token must carry `exp` and `iat`, and
live at most JWT_MAX_LIFETIME_S (exp - iat; default 24 h); with JWT_ISSUER / JWT_AUDIENCE set,
`iss` / `aud` are required and must match. Signing out revokes the browser's token in the
database (revoke_token): its id (`jti:<jti>`, or `sha256:<hex>` of a token without a jti) goes
with every call that acts for someone (app/db.py sets app.token_id), and the database refuses a
revoked one in that same transaction (401).

API clients send the token as `Authorization: Bearer`. A browser signs in once with the same
token (app/pages/account.py): it is kept in Flask's signed session cookie (HttpOnly,
SameSite=Lax), and every unsafe request authenticated by that cookie must carry the session's
CSRF token (a form field `csrf_token` or an `X-CSRF-Token` header; Flask-WTF's signed,
session-bound tokens)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

from app.errors import ApiError

ROLES = ("customer", "mechanic", "staff")  # staff: checked against staff_members in the database
SESSION_TOKEN = "jwt"  # the signed session cookie's key holding the browser's JWT
SESSION_NAME = "who"  # the signed-in person's name and detail (get_signed_in_person at sign-in)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
JTI = re.compile(r"^[\x21-\x7e]{1,200}$")  # a jti the revocation list keeps as is (else the token's hash)


def init_app(app: Flask) -> None:
    """The session cookie: signed with SECRET_KEY (required outside demo mode; in demo mode,
    when unset, derived from the demo's JWT_SECRET), HttpOnly, SameSite=Lax, Secure when the
    public URL is https."""
    c = app.config
    if not c.get("SECRET_KEY") and c.get("DEMO_SIGN_IN"):
        c["SECRET_KEY"] = hmac.new(c["JWT_SECRET"].encode(), b"ssr session cookie", hashlib.sha256).hexdigest()
    c.update(
        SESSION_COOKIE_NAME="ssr_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=c["PUBLIC_BASE_URL"].startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session (the JWT's exp bounds that)
    )

    @app.context_processor
    def _signed_in():
        viewer = browser_principal()
        return {"viewer": viewer, "viewer_who": session.get(SESSION_NAME) if viewer else None,
                "csrf_token": generate_csrf}


@dataclass(frozen=True)
class Principal:
    sub: uuid.UUID
    role: str
    token_id: str | None = None  # what revocation knows the token by (app.token_id)
    expires_at: datetime | None = None  # the token's exp


def token_id(token: str, claims: dict) -> str:
    jti = claims.get("jti")
    if isinstance(jti, str) and JTI.fullmatch(jti):
        return "jti:" + jti
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def decode(token: str) -> Principal:
    """The principal of a valid token; 401 otherwise (whether it is revoked, the database
    tells in the call that acts for it)."""
    c = current_app.config
    token = token.strip()
    issuer, audience = c.get("JWT_ISSUER"), c.get("JWT_AUDIENCE")
    required = ["sub", "exp", "iat"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
    try:
        claims = jwt.decode(token, c["JWT_SECRET"], algorithms=["HS256"], issuer=issuer or None,
                            audience=audience or None, options={"require": required})
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("token expired") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _unauthorized(f"invalid token: the {exc.claim} claim is required") from exc
    except jwt.InvalidIssuerError as exc:
        raise _unauthorized("invalid token: wrong issuer (iss)") from exc
    except jwt.InvalidAudienceError as exc:
        raise _unauthorized("invalid token: wrong audience (aud)") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthorized("invalid token") from exc
    exp, iat = claims["exp"], claims["iat"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat)):
        raise _unauthorized("invalid token: exp and iat must be numbers")
    max_lifetime = int(c.get("JWT_MAX_LIFETIME_S") or 86400)
    if exp - iat > max_lifetime:
        raise _unauthorized(f"invalid token: it lives longer than {max_lifetime} s (exp - iat)")
    try:
        sub = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise _unauthorized("invalid token: sub must be a UUID") from exc
    got = claims.get("role")
    if got not in ROLES:
        raise _unauthorized("invalid token: role must be customer, mechanic or staff")
    return Principal(sub, got, token_id(token, claims), datetime.fromtimestamp(exp, UTC))


def browser_principal() -> Principal | None:
    """The principal of the session cookie, or None (no cookie, or its token expired)."""
    token = session.get(SESSION_TOKEN)
    if not token:
        return None
    try:
        return decode(token)
    except ApiError:
        return None


def check_csrf() -> None:
    """403 unless the request carries the session's CSRF token (form field or header)."""
    data = request.headers.get("X-CSRF-Token")
    if data is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data = request.form.get("csrf_token")
    try:
        validate_csrf(data)
    except ValidationError as exc:
        raise ApiError(403, "csrf_failed", f"missing or invalid CSRF token: {exc}", "csrf_token") from exc


def current_principal(role: str, bearer_only: bool = False) -> Principal:
    """The authenticated caller: a bearer token, else the session cookie (with the CSRF token
    on unsafe methods); 401 without a valid one, 403 with another role. bearer_only: the
    cookie is not enough (a GET that changes state: a cross-site link would carry it)."""
    header = request.headers.get("Authorization")
    if header is None and bearer_only:
        raise _unauthorized("this endpoint takes a bearer token only (Authorization: Bearer); "
                            "a browser books with the booking form")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("missing bearer token")
        principal = decode(token)
    else:
        token = session.get(SESSION_TOKEN)
        if not token:
            raise _unauthorized("missing bearer token or session")
        principal = decode(token)
        if request.method not in SAFE_METHODS:
            check_csrf()
    if principal.role != role:
        raise ApiError(403, "forbidden", f"this endpoint is for the {role} role")
    return principal


def sign_in(token: str) -> Principal:
    """Start a browser session from a valid JWT (401 otherwise): a fresh session, so a
    CSRF token or identity from before does not carry over."""
    principal = decode(token.strip())
    session.clear()
    session[SESSION_TOKEN] = token.strip()
    return principal


def sign_out() -> None:
    """Revoke the browser's token (until its exp), then forget it. A database that cannot be
    reached leaves the session as it was (503): signing out again revokes it then."""
    from app.db import call

    token = session.get(SESSION_TOKEN)
    principal = None
    if token:
        try:
            principal = decode(token)
        except ApiError:
            principal = None  # expired or invalid: refused anyway, nothing to revoke
    if principal is not None:
        call("SELECT revoke_token(%s, %s) AS revoked", (principal.token_id, principal.expires_at))
    session.clear()


def mint(sub: str, role: str, ttl: int) -> str:
    """A token signed with this app's JWT_SECRET (the demo sign-in)."""
    c = current_app.config
    now = int(time.time())
    claims = {"sub": str(sub), "role": role, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    if c.get("JWT_ISSUER"):
        claims["iss"] = c["JWT_ISSUER"]
    if c.get("JWT_AUDIENCE"):
        claims["aud"] = c["JWT_AUDIENCE"]
    return jwt.encode(claims, c["JWT_SECRET"], algorithm="HS256")


def role_required(role: str, bearer_only: bool = False):
    """Decorator: the view runs only for a caller of `role` (401 / 403 otherwise), with the
    caller in `g.principal`: a bearer token or the browser's session cookie (then unsafe
    methods need the CSRF token); with bearer_only, a bearer token only."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            g.principal = current_principal(role, bearer_only)
            return view(*args, **kwargs)

        return wrapped

    return decorator
