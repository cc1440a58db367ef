"""Bearer tokens: HS256 JWTs with `sub` (a UUID) and `role` (customer | mechanic), the
PostgREST/Supabase convention. The secret comes from JWT_SECRET."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

import jwt
from flask import current_app, g, request

from app.errors import ApiError

ROLES = ("customer", "mechanic")


@dataclass(frozen=True)
class Principal:
    sub: uuid.UUID
    role: str


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def current_principal(role: str) -> Principal:
    """The authenticated caller; 401 without a valid token, 403 with another role."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token")
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
    if got != role:
        raise ApiError(403, "forbidden", f"this endpoint is for the {role} role")
    return Principal(sub, got)


def role_required(role: str):
    """Decorator: the view runs only for a valid bearer token of `role` (401 / 403 otherwise),
    with the caller in `g.principal`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            g.principal = current_principal(role)
            return view(*args, **kwargs)

        return wrapped

    return decorator
