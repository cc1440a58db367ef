"""Query-string parsing shared by the endpoints: a clear 400 naming the parameter."""

from __future__ import annotations

import re
import uuid

from flask import request

from app.errors import ApiError


def uuid_param(name: str, required: bool = False) -> uuid.UUID | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, "invalid_input", f"{name} is required", name)
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_input", f"{name} must be a UUID", name) from exc


def path_uuid(value: str, name: str) -> uuid.UUID:
    """A UUID from the path: anything else is 404 (no such resource)."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ApiError(404, "not_found", f"{name} must be a UUID", name) from exc


MAX_INT_PARAM = 999_999_999  # nine digits at most: app/openapi.json states the same maximum


def int_param(name: str, default: int, lo: int, hi: int = MAX_INT_PARAM) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,9}", raw.strip()):
        raise ApiError(400, "invalid_input", f"{name} must be an integer between {lo} and {hi}", name)
    value = int(raw)
    if value < lo or value > hi:
        raise ApiError(400, "invalid_input", f"{name} must be between {lo} and {hi}", name)
    return value


def only_params(*allowed: str) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise ApiError(400, "invalid_input", f"unknown query parameter {unknown[0]}", unknown[0])
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, "invalid_input", f"{name} is given more than once", name)
