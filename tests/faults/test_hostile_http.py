"""Hostile requests over real HTTP, through gunicorn as `make run` serves the app: where the app's
JSON errors answer, and exactly where gunicorn answers first (docs/SECURITY.md, "Hostile input"):
over-long lines and headers, NUL bytes, malformed and never-sent bodies, bytes that are not UTF-8,
odd methods. Each case has its expected answer."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.faults.harness import Gunicorn


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


def send(base: str, data: bytes, timeout: float = 30) -> tuple[int, dict, bytes, float]:
    """Bytes as they are (no encoding, no Host added), then read until the server closes:
    (status, headers, body, seconds until closed)."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), hdrs, body, time.monotonic() - started


def head(method_path: bytes, *headers: bytes) -> bytes:
    return method_path + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


CLOSE = b"Connection: close"
JSON = "json"
PLAIN = "gunicorn"  # gunicorn's own answer (HTML), before the app: where the JSON contract ends

# (what, request bytes, expected status, who answers, the JSON error code or None)
CASES = [
    # Bodies: malformed chunked encoding is the app's 400, never a 500; conflicting framing is gunicorn's.
    ("a chunk size that is not hex", head(b"POST /api/stripe/webhook", b"Transfer-Encoding: chunked", CLOSE)
     + b"zz\r\nabc\r\n0\r\n\r\n", 400, JSON, "invalid_body"),
    ("a chunk longer than its size", head(b"POST /api/stripe/webhook", b"Transfer-Encoding: chunked", CLOSE)
     + b"2\r\nabcdef\r\n0\r\n\r\n", 400, JSON, "invalid_body"),
    ("a chunked body with a NUL", head(b"POST /api/sessions/00000000-0000-4000-8000-000000000001/review",
                                      b"Transfer-Encoding: chunked", b"Content-Type: application/json", CLOSE)
     + b"3\r\na\x00b\r\n0\r\n\r\n", 400, JSON, "invalid_input"),
    ("Transfer-Encoding and Content-Length together", head(b"POST /api/stripe/webhook", b"Transfer-Encoding: chunked",
                                                          b"Content-Length: 5", CLOSE) + b"0\r\n\r\n", 400, PLAIN, None),
    ("a transfer coding other than chunked", head(b"POST /api/stripe/webhook", b"Transfer-Encoding: gzip", CLOSE),
     400, PLAIN, None),
    # Bytes that are not UTF-8: header values are bytes the app does not read (latin-1, as WSGI says).
    ("a header value that is not UTF-8", head(b"GET /api/workshops/directory?limit=1", b"X-Name: caf\xe9 \xff\xfe",
                                             CLOSE), 200, JSON, None),
    ("a bearer token that is not UTF-8", head(b"GET /api/mechanic/requests", b"Authorization: Bearer \xff\xfe", CLOSE),
     401, JSON, "unauthorized"),
    ("a raw non-UTF-8 byte in the path", head(b"GET /api/workshops/\xff", CLOSE), 400, PLAIN, None),
    ("a percent-encoded non-UTF-8 id in the path", head(b"POST /api/session-requests/%ff%fe/accept",
                                                       b"Content-Length: 0", CLOSE), 401, JSON, "unauthorized"),
    ("a percent-encoded non-UTF-8 integer", head(b"GET /api/workshops/directory?limit=%ff", CLOSE), 400, JSON,
     "invalid_input"),
    ("101 header fields", head(b"GET /api/workshops/directory", *(b"X-H%d: y" % i for i in range(101)), CLOSE),
     431, PLAIN, None),
    ("a header line without a colon", head(b"GET /api/workshops/directory", b"Bogus", CLOSE), 400, PLAIN, None),
    # Methods: unknown or not routed -> the app's 405 with Allow; what is not a method token -> gunicorn.
    ("PROPFIND", head(b"PROPFIND /api/workshops/directory", CLOSE), 405, JSON, "method_not_allowed"),
    ("an invented method", head(b"FROB /api/workshops/directory", CLOSE), 405, JSON, "method_not_allowed"),
    ("TRACE", head(b"TRACE /api/workshops/directory", CLOSE), 405, JSON, "method_not_allowed"),
    ("DELETE", head(b"DELETE /api/sessions/00000000-0000-4000-8000-000000000001/review", CLOSE), 405, JSON,
     "method_not_allowed"),
    ("CONNECT to a host", head(b"CONNECT 127.0.0.1:5432", CLOSE), 404, JSON, "not_found"),
    ("a lower-case method", head(b"get /api/workshops/directory", CLOSE), 400, PLAIN, None),
    # Request lines gunicorn does not take.
    ("HTTP/2.0 in an HTTP/1 request line", b"GET /api/workshops/directory HTTP/2.0\r\nHost: x\r\n\r\n", 400, PLAIN,
     None),
    ("a request line without a version", b"GET /api/workshops/directory\r\n\r\n", 400, PLAIN, None),
    ("lines ended by a bare LF", b"GET /api/workshops/directory HTTP/1.1\nHost: x\n\n", 400, PLAIN, None),
]


@pytest.mark.parametrize(("what", "data", "status", "who", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_hostile_request_gets_its_expected_answer(server, what, data, status, who, code):
    got, hdrs, body, _ = send(server.base, data)
    assert got == status, (what, got, body[:300])
    is_json = hdrs.get("content-type", "").startswith("application/json")
    assert is_json == (who == JSON), (what, hdrs, body[:200])
    if code:
        assert json.loads(body)["error"]["code"] == code, (what, body[:300])
    if status == 405:
        assert hdrs["allow"], what


def test_options_and_head_are_answered_without_a_body(server):
    got, hdrs, body, _ = send(server.base, head(b"OPTIONS /api/workshops/directory", CLOSE))
    assert got == 200 and set(hdrs["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"} and body == b""
    got, hdrs, body, _ = send(server.base, head(b"HEAD /api/workshops/directory?limit=1", CLOSE))
    assert got == 200 and hdrs["content-type"].startswith("application/json") and body == b""


@pytest.fixture(scope="module")
def two_thread_server(app_env):
    """One worker with two threads and a 1 s body read timeout: a held thread would show at once."""
    g = Gunicorn({**app_env, "GUNICORN_THREADS": "2", "BODY_READ_TIMEOUT": "1"}, workers=1)
    yield g
    g.stop()


def test_a_body_announced_and_never_sent_is_a_408_and_frees_the_thread(two_thread_server):
    """`Transfer-Encoding: chunked` (or a Content-Length) and then silence: the app's read of the body
    waits at most BODY_READ_TIMEOUT, answers 408 and gunicorn closes the connection, so both threads
    of this worker are free again; before, each such request held a thread until the client gave up."""
    base = two_thread_server.base
    silent = [
        head(b"POST /api/stripe/webhook", b"Transfer-Encoding: chunked", b"Content-Type: application/json"),
        head(b"GET /api/workshops/directory", b"Transfer-Encoding: chunked"),
        head(b"POST /api/stripe/webhook", b"Content-Length: 100", b"Content-Type: application/json") + b"{",
    ]
    for data in silent:
        got, _, body, seconds = send(base, data, timeout=15)
        assert got == 408 and json.loads(body)["error"]["code"] == "request_timeout", body[:200]
        assert 0.9 <= seconds < 3, seconds  # answered and closed after the 1 s limit, not the client's 15 s
    # Both threads held by silent bodies at once, then an ordinary request: answered once they time out.
    host, port = base.removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port)), timeout=15) for _ in range(2)]
    try:
        for s in held:
            s.sendall(silent[0])
        started = time.monotonic()
        got, _, _, _ = send(base, head(b"GET /healthz", CLOSE), timeout=15)
        assert got == 200 and time.monotonic() - started < 3
    finally:
        for s in held:
            s.close()
