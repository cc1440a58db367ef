"""JSON request bodies: an object with known fields, each of the expected type, or a clear 400
naming the field."""

from __future__ import annotations

from flask import request

from app.errors import ApiError


def json_object(*allowed: str, required: bool = True) -> dict:
    """The request's JSON object restricted to `allowed` keys; {} when optional and absent."""
    if not request.get_data(cache=True):
        if required:
            raise ApiError(400, "invalid_input", "a JSON object body is required")
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_input", "the body must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(400, "invalid_input", f"unknown field {unknown[0]}", unknown[0])
    return body


def int_field(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ApiError(400, "invalid_input", f"{name} must be an integer", name)
    return value


def text_field(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_input", f"{name} must be a string", name)
    return value
