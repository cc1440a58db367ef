"""Hostile requests over real HTTP, through gunicorn as `make run` serves the app: where the app's
JSON errors answer, and exactly where gunicorn answers first (docs/SECURITY.md, "Hostile input")."""

from __future__ import annotations

import json
import socket


def raw(base: str, request_line: str, headers: list[tuple[str, str]] = ()) -> tuple[int, dict, bytes]:
    host, port = base.removeprefix("http://").split(":")
    msg = request_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in [("Host", host), *headers, ("Connection", "close")])
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall((msg + "\r\n").encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return status, hdrs, body


def json_error(status, hdrs, body) -> str:
    assert hdrs["content-type"].startswith("application/json"), (status, hdrs, body[:200])
    return json.loads(body)["error"]["code"]


def test_the_app_answers_hostile_requests_with_json_up_to_gunicorns_own_limits(server):
    base = server.base
    ok = raw(base, "GET /api/workshops/directory?limit=1 HTTP/1.1")
    assert ok[0] == 200
    # NUL in the query string or the path (percent-encoded): the app's JSON 400.
    r = raw(base, "GET /api/workshops/directory?limit=%00 HTTP/1.1")
    assert r[0] == 400 and json_error(*r) == "invalid_input"
    r = raw(base, "POST /api/session-requests/%00/accept HTTP/1.1", [("Content-Length", "0")])
    assert r[0] == 400 and json_error(*r) == "invalid_input"
    # A request line of 4097..8190 bytes: the app's JSON 414.
    r = raw(base, "GET /api/workshops/directory?limit=1&pad=" + "x" * 5000 + " HTTP/1.1")
    assert r[0] == 414 and json_error(*r) == "uri_too_long"
    # A header field of 8191..16380 bytes: the app's JSON 431.
    r = raw(base, "GET /api/workshops/directory HTTP/1.1", [("X-Long", "x" * 10000)])
    assert r[0] == 431 and json_error(*r) == "request_header_fields_too_large"

    # Past gunicorn's own limits, gunicorn answers before the app, in plain text: where the JSON contract ends.
    r = raw(base, "GET /api/workshops/directory?pad=" + "x" * 9000 + " HTTP/1.1")
    assert r[0] == 414 and not r[1].get("content-type", "").startswith("application/json")
    r = raw(base, "GET /api/workshops/directory HTTP/1.1", [("X-Long", "x" * 17000)])
    assert r[0] == 431 and not r[1].get("content-type", "").startswith("application/json")
    # A raw NUL byte in a header value is refused by gunicorn's parser itself (400, plain text).
    r = raw(base, "GET /api/workshops/directory HTTP/1.1", [("X-Nul", "a\x00b")])
    assert r[0] == 400
