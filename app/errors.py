"""JSON errors everywhere: API errors, database errors mapped from SQLSTATE, HTTP errors."""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2  # what a 503 tells clients (Stripe, browsers) to wait before retrying

# SQLSTATEs of docs/API.md ("SQL errors a caller can map") -> (HTTP status, error code)
SQLSTATE_HTTP = {
    "SR400": (400, "invalid_input"),
    "SR401": (401, "unauthorized"),  # the transaction's token is revoked (signed out)
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
    headers = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'} if status == 401 else None
    return ApiError(status, code, message, field, headers)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if exc.status >= 500:
            log.warning("%s %s: %s %s", request.method, request.path, exc.status, exc.code,
                        extra={"status": exc.status, "error_code": exc.code})
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.errorhandler(psycopg.OperationalError)
    def _db_unavailable(exc):
        # A lock or statement timeout (55P03, 57014): busy, not broken. No pooled connection in time
        # (PoolTimeout) or a lost connection: unavailable. Both are 503 with Retry-After.
        busy = isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled))
        code = "database_busy" if busy else "database_unavailable"
        log.warning("%s %s: 503 %s: %s", request.method, request.path, code, str(exc).strip(),
                    extra={"status": 503, "error_code": code, "sqlstate": exc.sqlstate})
        message = ("the database is busy (a timeout was reached), retry later" if busy
                   else "the database is unavailable, retry later")
        return error_response(503, code, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.errorhandler(psycopg.Error)
    def _db_error(exc: psycopg.Error):
        mapped = from_db_error(exc)
        if mapped is not None:
            return error_response(mapped.status, mapped.code, mapped.message, mapped.field, mapped.headers)
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
