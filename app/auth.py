"""Who is calling: HS256 JWTs with `sub` (a UUID) and `role` (customer | mechanic), the
PostgREST/Supabase convention, signed with JWT_SECRET.

API clients send the token as `Authorization: Bearer`. A browser signs in once with the same
token (app/pages/account.py): it is kept in Flask's signed session cookie (HttpOnly,
SameSite=Lax), and every unsafe request authenticated by that cookie must carry the session's
CSRF token (a form field `csrf_token` or an `X-CSRF-Token` header; Flask-WTF's signed,
session-bound tokens)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

import jwt
from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

from app.errors import ApiError

ROLES = ("customer", "mechanic")
SESSION_TOKEN = "jwt"  # the signed session cookie's key holding the browser's JWT
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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
        return {"viewer": browser_principal(), "csrf_token": generate_csrf}


@dataclass(frozen=True)
class Principal:
    sub: uuid.UUID
    role: str


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def decode(token: str) -> Principal:
    """The principal of a valid token; 401 otherwise."""
    try:
        claims = jwt.decode(
            token.strip(),
            current_app.config["JWT_SECRET"],
            algorithms=["HS256"],
            options={"require": ["sub", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthorized("invalid token") from exc
    try:
        sub = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise _unauthorized("invalid token: sub must be a UUID") from exc
    got = claims.get("role")
    if got not in ROLES:
        raise _unauthorized("invalid token: role must be customer or mechanic")
    return Principal(sub, got)


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


def current_principal(role: str) -> Principal:
    """The authenticated caller: a bearer token, else the session cookie (with the CSRF token
    on unsafe methods); 401 without a valid one, 403 with another role."""
    header = request.headers.get("Authorization")
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
    session.clear()


def mint(sub: str, role: str, ttl: int) -> str:
    """A token signed with this app's JWT_SECRET (the demo sign-in)."""
    now = int(time.time())
    return jwt.encode({"sub": str(sub), "role": role, "iat": now, "exp": now + ttl},
                      current_app.config["JWT_SECRET"], algorithm="HS256")


def role_required(role: str):
    """Decorator: the view runs only for a caller of `role` (401 / 403 otherwise), with the
    caller in `g.principal`: a bearer token or the browser's session cookie (then unsafe
    methods need the CSRF token)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            g.principal = current_principal(role)
            return view(*args, **kwargs)

        return wrapped

    return decorator
