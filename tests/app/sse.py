"""A small Server-Sent Events reader over a real HTTP connection (tests and make bench)."""

from __future__ import annotations

import http.client
import json
import time


class SSEClient:
    def __init__(self, base: str, path: str = "/api/mechanic/events", headers: dict | None = None,
                 timeout: float = 20.0):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.comments: list[str] = []
        self.last_id: str | None = None

    def next_event(self, deadline_seconds: float = 20.0) -> dict:
        """The next event with data (comments are kept in .comments); raises TimeoutError."""
        deadline = time.monotonic() + deadline_seconds
        fields: dict = {}
        while time.monotonic() < deadline:
            line = self.response.fp.readline()
            if not line:
                raise EOFError("stream ended")
            line = line.decode().rstrip("\r\n")
            if line == "":
                if "data" in fields:
                    fields["json"] = json.loads(fields["data"])
                    return fields
                fields = {}
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = value
            if name == "id":
                self.last_id = value
        raise TimeoutError("no event in time")

    def comment(self, text: str, deadline_seconds: float = 20.0) -> None:
        """Read until a comment line `: text` (events in between are dropped)."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            line = self.response.fp.readline()
            if not line:
                raise EOFError("stream ended")
            if line.decode().rstrip("\r\n") == f": {text}":
                return
        raise TimeoutError(f"no comment {text!r} in time")

    def until(self, predicate, deadline_seconds: float = 20.0) -> dict:
        deadline = time.monotonic() + deadline_seconds
        while True:
            event = self.next_event(max(deadline - time.monotonic(), 0.01))
            if predicate(event["json"]):
                return event

    def close(self) -> None:
        self.conn.close()
