"""A local HTTP fake of the two Stripe API calls the app makes, for the REAL `stripe`
library to talk to (StripeClient(..., base_addresses={"api": fake.url})).

POST /v1/checkout/sessions    records the form parameters and the Idempotency-Key,
                              answers a checkout.session (the same one again for a
                              replayed idempotency key, as Stripe does)
GET  /v1/checkout/sessions/ID answers the stored session, or a Stripe-style 404

Test hooks: `mark_paid(id)`, `update(id, **fields)`, `fail_next(status)`, and an outage:
`go_down()` closes the listening socket and every open connection (the API is unreachable:
connections are refused), `come_up()` listens again on the same port with the same data.

Standalone (`python -m tools.stripe_fake --port 12111 --webhook-url URL --webhook-secret
whsec_...`, what `make run` starts when no STRIPE_SECRET_KEY is given) it also plays
the hosted Checkout page: a session's `url` is GET /c/pay/ID on the fake, which marks
the session paid, POSTs a signed `checkout.session.completed` event to the app's
webhook, and redirects to the session's success_url, as Stripe would.
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
        self._conns: set = set()  # open client sockets, closed by go_down()
        self.down = False
        self.demo_webhook: tuple[str, str] | None = None  # (webhook url, secret) in demo mode
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with fake._lock:
                    fake._conns.add(self.connection)

            def finish(self):
                with fake._lock:
                    fake._conns.discard(self.connection)
                super().finish()

            def handle_one_request(self):
                if fake.down:  # unreachable: drop the connection without an answer
                    self.close_connection = True
                    return
                super().handle_one_request()

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
                        "url": (f"{fake.url}/c/pay/{sid}" if fake.demo_webhook
                                else f"https://checkout.stripe.test/c/pay/{sid}"),
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
                if path.startswith("/c/pay/") and fake.demo_webhook:
                    return self._demo_pay(path[len("/c/pay/") :])
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

            def _demo_pay(self, sid: str):
                if sid not in fake.sessions:
                    return self._send(404, {"error": {"type": "invalid_request_error", "message": "no such session"}})
                session = fake.mark_paid(sid)
                status = fake.deliver(session)
                target = (session.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", sid)
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("X-Webhook-Status", str(status))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._handler = Handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StripeFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.down:
            return
        self.server.shutdown()
        self.server.server_close()

    def go_down(self) -> None:
        """An outage: stop listening and cut every open connection (keep-alive ones included)."""
        import socket

        self.down = True
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def come_up(self) -> None:
        """The end of the outage: listen again on the same port, with the same sessions."""
        port = int(self.url.rsplit(":", 1)[1])
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler)
        self.server.daemon_threads = True
        self.down = False
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # --- test hooks ---
    def update(self, sid: str, **fields) -> dict:
        with self._lock:
            self.sessions[sid].update(fields)
            return dict(self.sessions[sid])

    def mark_paid(self, sid: str) -> dict:
        return self.update(sid, payment_status="paid", status="complete")

    def deliver(self, session: dict, event_type: str = "checkout.session.completed") -> int:
        """POST a signed event about `session` to the demo webhook; returns the HTTP status."""
        import urllib.error
        import urllib.request

        assert self.demo_webhook is not None
        url, secret = self.demo_webhook
        event = {
            "id": "evt_" + secrets.token_hex(12), "object": "event", "type": event_type,
            "livemode": False, "created": int(time.time()), "api_version": "2025-01-27.acacia",
            "data": {"object": session},
        }
        payload = json.dumps(event)
        req = urllib.request.Request(url, data=payload.encode(), method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the app's own URL
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

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
    """Serve the fake standalone for a local demo: python -m tools.stripe_fake --port 12111"""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--webhook-url", help="the app's webhook: enables the demo Checkout page /c/pay/ID")
    ap.add_argument("--webhook-secret", help="the secret to sign demo webhook events with")
    a = ap.parse_args(argv)
    fake = StripeFake()
    fake.server.server_close()
    fake.server = ThreadingHTTPServer(("127.0.0.1", a.port), fake.server.RequestHandlerClass)
    fake.server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{a.port}"
    if a.webhook_url:
        if not a.webhook_secret:
            ap.error("--webhook-url needs --webhook-secret")
        fake.demo_webhook = (a.webhook_url, a.webhook_secret)
    print(f"fake Stripe API on {fake.url} (set STRIPE_API_BASE to it)", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
