"""JSON errors everywhere: API errors, database errors mapped from SQLSTATE, HTTP errors."""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# SQLSTATEs of the README ("SQL errors a caller can map") -> (HTTP status, error code)
SQLSTATE_HTTP = {
    "SR400": (400, "invalid_input"),
    "SR404": (400, "not_found"),
    "SR403": (403, "forbidden"),
    "SR409": (409, "conflict"),
    "22P02": (400, "invalid_input"),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, field: str | None = None, headers=None):
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    resp = jsonify(ok=False, error=err)
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def from_db_error(exc: psycopg.Error, path_ids: bool = False, field_map: dict | None = None) -> ApiError | None:
    """An ApiError for a known SQLSTATE, else None. SR404 is 404 for path ids, 400 for parameters."""
    state = exc.sqlstate or ""
    if state not in SQLSTATE_HTTP:
        return None
    status, code = SQLSTATE_HTTP[state]
    if state == "SR404" and path_ids:
        status = 404
    diag = exc.diag
    field = diag.column_name
    if field and field_map:
        field = field_map.get(field, field)
    message = diag.message_primary or str(exc)
    return ApiError(status, code, message, field)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.errorhandler(psycopg.OperationalError)
    def _db_unavailable(exc):
        log.warning("database unavailable: %s", exc)
        return error_response(503, "database_unavailable", "the database is unavailable, retry later",
                              headers={"Retry-After": "5"})

    @app.errorhandler(psycopg.Error)
    def _db_error(exc: psycopg.Error):
        mapped = from_db_error(exc)
        if mapped is not None:
            return error_response(mapped.status, mapped.code, mapped.message, mapped.field)
        log.exception("database error")
        return error_response(500, "internal_error", "internal error")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        resp = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
