"""What the app takes from a request, or a clear 400 naming the parameter or field: the query
string (`only_params`, `int_param`), ids in the path (`path_uuid`: anything else is
404), JSON bodies (`json_object`, `int_field`, `text_field`), and, before any endpoint runs, hostile
input refused with the JSON error shape (`register`). The bounds are app/openapi.json's and the SQL
signatures': an integer the SQL takes as `integer` is refused past int32 here (a 400 naming it,
never a database error), and the query's integers have at most nine digits.

- A body that stops arriving (a `Transfer-Encoding: chunked` or `Content-Length` body the client
  does not send) -> 408 `request_timeout` once no byte came for BODY_READ_TIMEOUT seconds (10); a
  malformed chunked body -> 400 `invalid_body`; either way the connection is closed at once and
  the thread is free again. A client that trickles a byte at a time within that limit is a reverse proxy's to
  cut (docs/OPERATIONS.md, "In front of the app").

- A NUL byte anywhere (path, query, header, form field, JSON string or raw body) -> 400
  `invalid_input`: PostgreSQL text cannot hold one, and no field of this API needs one.
- A request line longer than MAX_REQUEST_LINE bytes -> 414 `uri_too_long`; a header field longer
  than MAX_HEADER_FIELD bytes, or all header fields together longer than MAX_HEADER_BYTES -> 431
  `request_header_fields_too_large`.

gunicorn parses the request before the app sees it; gunicorn.conf.py sets its limits above these
(request line 8190 bytes, its maximum; header field 16380 bytes; 100 header fields), so requests
between the two get this JSON answer. Past gunicorn's own limits (and for bytes gunicorn refuses in
a header, such as NUL) gunicorn answers with its own plain-text 400/414/431: that is where the JSON
error contract ends (docs/SECURITY.md, "Hostile input").
"""

from __future__ import annotations

import json
import re
import socket
import uuid

from flask import Flask, current_app, request
from werkzeug.exceptions import ClientDisconnected

from app.errors import ApiError

# --- the query string and the path ----------------------------------------------------------


def path_uuid(value: str, name: str) -> uuid.UUID:
    """A UUID from the path: anything else is 404 (no such resource)."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ApiError(404, "not_found", f"{name} must be a UUID", name) from exc


MAX_INT_PARAM = 999_999_999  # nine digits at most: app/openapi.json states the same maximum
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # SQL `integer`


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


# --- JSON request bodies: an object with known fields, each of the expected type -------------


def json_object(*allowed: str, required: bool = True) -> dict:
    """The request's JSON object restricted to `allowed` keys; {} when optional and absent."""
    if not read_body():
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


def int_field(body: dict, name: str, lo: int = INT32_MIN, hi: int = INT32_MAX) -> int | None:
    """An integer field (JSON Schema's: 4.0 is the integer 4) within lo..hi, by default the SQL
    `integer` range, so the database never sees a bigint it has no function for."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "invalid_input", f"{name} must be an integer", name)
    if value < lo or value > hi:
        raise ApiError(400, "invalid_input", f"{name} must be an integer between {lo} and {hi}", name)
    return value


def text_field(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_input", f"{name} must be a string", name)
    return value


# --- hostile input, refused before any endpoint -------------------------------------------------

MAX_REQUEST_LINE = 4096
MAX_HEADER_FIELD = 8190
MAX_HEADER_BYTES = 32768
NUL = "\x00"


def read_body() -> bytes:
    """The request body (cached; more than MAX_CONTENT_LENGTH is a 413). Under gunicorn each read
    of the socket waits at most BODY_READ_TIMEOUT: a body that stops arriving is a 408, a malformed
    chunked body a 400, and gunicorn then closes the connection (where the next request would
    start is unknown), instead of a thread held until the client gives up or a 500."""
    sock = request.environ.get("gunicorn.socket")
    if sock is None or "ssr.body" in request.environ:  # not under gunicorn, or read already
        return request.get_data(cache=True)
    from gunicorn.http.errors import ParseException

    limit = current_app.config["BODY_READ_TIMEOUT"]
    prior = sock.gettimeout()
    sock.settimeout(limit)
    try:
        body = request.get_data(cache=True)
    except (TimeoutError, ClientDisconnected) as exc:  # werkzeug wraps the socket's timeout
        if isinstance(exc, ClientDisconnected) and not isinstance(exc.__context__, TimeoutError):
            raise  # the client went away: nobody reads the answer
        _end_reading(sock)
        raise ApiError(408, "request_timeout", f"the body stopped arriving (nothing for {limit:g} s)") from exc
    except ParseException as exc:  # a bad chunk size, a chunk longer than it said
        _end_reading(sock)
        raise ApiError(400, "invalid_body", f"the body is malformed: {type(exc).__name__}") from exc
    finally:
        try:
            sock.settimeout(prior)
        except OSError:
            pass
    request.environ["ssr.body"] = True
    return body


def _end_reading(sock) -> None:
    """No more reading from this connection (where its next request would start is unknown): the
    answer is still written, and gunicorn, finding the end of the input, closes the connection at
    once instead of draining the rest of the body for up to 5 s."""
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def _nul_in_json(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(NUL in k or _nul_in_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in_json(v) for v in value)
    return False


def _refuse_nul(where: str, field: str | None = None):
    raise ApiError(400, "invalid_input", f"NUL bytes are not allowed in the {where}", field)


def check_sizes() -> None:
    env = request.environ
    raw_uri = env.get("RAW_URI") or env.get("REQUEST_URI") or request.full_path
    line = len(request.method) + 1 + len(raw_uri) + 1 + len(env.get("SERVER_PROTOCOL") or "HTTP/1.1")
    if line > MAX_REQUEST_LINE:
        raise ApiError(414, "uri_too_long", f"the request line is longer than {MAX_REQUEST_LINE} bytes")
    total = 0
    for name, value in request.headers.items():
        size = len(name) + 2 + len(value)
        if size > MAX_HEADER_FIELD:
            raise ApiError(431, "request_header_fields_too_large",
                           f"the header {name} is longer than {MAX_HEADER_FIELD} bytes", name)
        total += size
    if total > MAX_HEADER_BYTES:
        raise ApiError(431, "request_header_fields_too_large", f"the headers are longer than {MAX_HEADER_BYTES} bytes")


def check_nul() -> None:
    if NUL in request.path:
        _refuse_nul("path")
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            _refuse_nul("query", name.replace(NUL, "") or None)
    for name, value in request.headers.items():
        if NUL in name or NUL in value:
            _refuse_nul("headers", name.replace(NUL, "") or None)
    if not request.content_length and request.headers.get("Transfer-Encoding") is None:
        return
    body = read_body()
    if b"\x00" in body:
        _refuse_nul("body", "body")
    if request.mimetype == "application/x-www-form-urlencoded":
        for name, value in request.form.items(multi=True):
            if NUL in name or NUL in value:
                _refuse_nul("form", name.replace(NUL, "") or None)
    elif request.is_json and b"\\u0000" in body.lower():
        try:
            parsed = json.loads(body)
        except ValueError:
            return  # not JSON: the endpoint says so
        if _nul_in_json(parsed):
            _refuse_nul("JSON body", "body")


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_hostile_input():
        check_sizes()
        check_nul()
