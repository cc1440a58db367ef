"""A local HTTP fake of the two Stripe API calls the app makes, for the REAL `stripe`
library to talk to (StripeClient(..., base_addresses={"api": fake.url})).

POST /v1/checkout/sessions    records the form parameters and the Idempotency-Key,
                              answers a checkout.session (the same one again for a
                              replayed idempotency key, as Stripe does)
GET  /v1/checkout/sessions/ID answers the stored session, or a Stripe-style 404

Test hooks: `mark_paid(id)`, `update(id, **fields)`, `fail_next(status)`.
Also `sign(payload, secret, timestamp)`: the Stripe-Signature header, computed the
way Stripe signs webhooks (HMAC-SHA256 of "t.payload").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    if isinstance(payload, bytes):
        payload = payload.decode()
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def nested(flat: dict[str, str], prefix: str) -> dict[str, str]:
    """{'metadata[plan]': 'x'} -> {'plan': 'x'} for prefix 'metadata'."""
    out = {}
    for k, v in flat.items():
        if k.startswith(prefix + "[") and k.endswith("]"):
            out[k[len(prefix) + 1 : -1]] = v
    return out


class StripeFake:
    def __init__(self):
        self.requests: list[dict] = []  # every create call: params, idempotency_key, api_key
        self.sessions: dict[str, dict] = {}
        self.retrievals: list[str] = []
        self._by_idem: dict[str, str] = {}
        self._fail: list[int] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_fake_" + secrets.token_hex(6))
                self.end_headers()
                self.wfile.write(data)

            def _failure(self) -> bool:
                with fake._lock:
                    status = fake._fail.pop(0) if fake._fail else None
                if status is None:
                    return False
                self._send(status, {"error": {"type": "api_error", "message": "fake failure"}})
                return True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if self.path != "/v1/checkout/sessions":
                    return self._send(404, {"error": {"type": "invalid_request_error", "message": "no route"}})
                if self._failure():
                    return
                params = dict(parse_qsl(body, keep_blank_values=True))
                idem = self.headers.get("Idempotency-Key")
                with fake._lock:
                    fake.requests.append({
                        "params": params,
                        "idempotency_key": idem,
                        "authorization": self.headers.get("Authorization"),
                    })
                    if idem and idem in fake._by_idem:
                        return self._send(200, fake.sessions[fake._by_idem[idem]])
                    sid = "cs_test_" + secrets.token_hex(12)
                    amount = sum(
                        int(params.get(f"line_items[{i}][price_data][unit_amount]", 0))
                        * int(params.get(f"line_items[{i}][quantity]", 1))
                        for i in range(10)
                        if f"line_items[{i}][price_data][unit_amount]" in params
                    )
                    session = {
                        "id": sid,
                        "object": "checkout.session",
                        "url": f"https://checkout.stripe.test/c/pay/{sid}",
                        "mode": params.get("mode"),
                        "status": "open",
                        "payment_status": "unpaid",
                        "amount_total": amount,
                        "currency": params.get("line_items[0][price_data][currency]"),
                        "client_reference_id": params.get("client_reference_id"),
                        "customer_email": params.get("customer_email"),
                        "metadata": nested(params, "metadata"),
                        "success_url": params.get("success_url"),
                        "livemode": False,
                    }
                    fake.sessions[sid] = session
                    if idem:
                        fake._by_idem[idem] = sid
                self._send(200, session)

            def do_GET(self):
                prefix = "/v1/checkout/sessions/"
                path = self.path.split("?", 1)[0]
                if not path.startswith(prefix):
                    return self._send(404, {"error": {"type": "invalid_request_error", "message": "no route"}})
                if self._failure():
                    return
                sid = path[len(prefix) :]
                with fake._lock:
                    fake.retrievals.append(sid)
                    session = fake.sessions.get(sid)
                if session is None:
                    return self._send(404, {"error": {
                        "type": "invalid_request_error", "code": "resource_missing",
                        "message": f"No such checkout.session: '{sid}'", "param": "session"}})
                self._send(200, session)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StripeFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- test hooks ---
    def update(self, sid: str, **fields) -> dict:
        with self._lock:
            self.sessions[sid].update(fields)
            return dict(self.sessions[sid])

    def mark_paid(self, sid: str) -> dict:
        return self.update(sid, payment_status="paid", status="complete")

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._fail.extend([status] * times)

    def add_session(self, **fields) -> dict:
        """A session the app did not create (e.g. from another integration)."""
        sid = "cs_test_" + secrets.token_hex(12)
        session = {"id": sid, "object": "checkout.session", "livemode": False, "payment_status": "paid",
                   "status": "complete", "metadata": {}, "client_reference_id": None, **fields}
        with self._lock:
            self.sessions[sid] = session
        return session


def main(argv: list[str] | None = None) -> int:
    """Serve the fake standalone for a local demo: python -m tests.stripe_fake --port 12111"""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=12111)
    a = ap.parse_args(argv)
    fake = StripeFake()
    fake.server.server_close()
    fake.server = ThreadingHTTPServer(("127.0.0.1", a.port), fake.server.RequestHandlerClass)
    fake.url = f"http://127.0.0.1:{a.port}"
    print(f"fake Stripe API on {fake.url} (set STRIPE_API_BASE to it)", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
