"""A local HTTP fake of the parts of the Stripe API the app uses, for the REAL `stripe`
library to talk to (StripeClient(key, base_addresses={"api": fake.url})). Its objects and
events follow Stripe's OpenAPI description (dev/stripe/openapi-subset.json, the part of it the
fake plays; tests/test_stripe_fake.py validates every object and event the fake returns against
its schemas).

    POST /v1/checkout/sessions              create (mode=payment, line_items with price_data)
    GET  /v1/checkout/sessions              list: created[gte|gt|lte|lt], status, payment_intent,
                                            limit, starting_after, ending_before (newest first)
    GET  /v1/checkout/sessions/ID           retrieve (expand[]=payment_intent, line_items)
    GET  /v1/checkout/sessions/ID/line_items
    POST /v1/checkout/sessions/ID/expire    an open session becomes expired
    POST /v1/refunds                        payment_intent, amount (default: what is left), reason, metadata
    GET  /v1/refunds/ID, GET /v1/refunds    retrieve; list by payment_intent or charge
    GET  /v1/payment_intents/ID             retrieve

Like Stripe: a key it does not know is 401; objects are seen only with a key of their mode
(livemode from the key); an Idempotency-Key replays the saved first response (a 500 of an
executed request included, header Idempotent-Replayed) and is a 400 idempotency_error when
reused with other parameters; `url` is null once a session is complete or expired; a paid
session has a payment_intent (pi_...) and customer_details.email; unknown routes, params
that cannot be expanded and missing objects are Stripe-shaped 4xx errors.

Test hooks: `mark_paid(id)`, `update(id, **fields)`, `fail_next(status, times, executed)`,
`add_session(**fields)`, `deliver(obj, event_type)`, `event(type, obj)`, `hold(route)`,
`refund_status` (status of new refunds), `hold_webhooks()` / `release_webhooks()`, and an
outage: `go_down()` closes the listening socket and every open connection (the API is
unreachable: connections are refused), `come_up()` listens again on the same port with the
same data.

Standalone (`python -m dev.stripe_fake --port 12111 --api-key sk_test_... --webhook-url URL
--webhook-secret whsec_...`, what `make run` starts when no STRIPE_SECRET_KEY is given) it
also plays the hosted Checkout page: a session's `url` is GET /c/pay/ID on the fake, which
marks the session paid and redirects to its success_url at once; the signed
`checkout.session.completed` event follows, after `--webhook-delay` seconds, as Stripe's
webhooks arrive after the redirect (so the success page may see the payment first).
Refunds made in demo mode send `refund.created` and `charge.refunded` the same way.
Also `sign(payload, secret, timestamp)`: the Stripe-Signature header, computed the way
Stripe signs webhooks (HMAC-SHA256 of "t.payload").

Differences from Stripe, on purpose: only card payments, paid instantly by mark_paid (no
3-D Secure, no async methods unless a test sets the fields with update); an idempotent
replay is keyed by API key and Idempotency-Key without Stripe's 24-hour expiry; list
pagination supports the id cursors but not `search`; events are not retried by the fake.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TEST_KEY = "sk_test_fake_" + "x" * 24
LIVE_KEY = "sk_live_fake_" + "y" * 24
API_VERSION = "2023-08-16"
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


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


def expands(params: dict[str, str]) -> set[str]:
    """expand[]=a&expand[0]=b -> {'a', 'b'} (the library sends expand[0], curl expand[])."""
    return {v for k, v in params.items() if k == "expand[]" or (k.startswith("expand[") and k.endswith("]"))}


def api_key_of(authorization: str) -> str:
    """The secret key of a request: `Bearer sk_...` (the libraries) or HTTP Basic with the key
    as the user name (`curl -u sk_test_...:`), as Stripe accepts both."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


class StripeError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {k: v for k, v in
                               {"type": type_, "message": message, "code": code, "param": param}.items() if v}}


def missing(kind: str, oid: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{oid}'", code="resource_missing", param=param)


class Hold:
    """Stops a route after it did its work and before it answers: `reached` is set when a
    request got there, the answer waits for `release` (a test kills the caller meanwhile)."""

    def __init__(self):
        self.reached = threading.Event()
        self.release = threading.Event()


class StripeFake:
    def __init__(self, api_keys=(TEST_KEY, LIVE_KEY), webhook_delay: float = 0.0):
        self.api_keys = set(api_keys)
        self.requests: list[dict] = []  # every checkout session create: params, idempotency_key, authorization
        self.calls: list[dict] = []  # every API call: method, path, params, idempotency_key, status, replayed
        self.sessions: dict[str, dict] = {}
        self.line_items: dict[str, list[dict]] = {}
        self.payment_intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.retrievals: list[str] = []
        self.events: list[dict] = []  # every event built (delivered or handed to a test)
        self.deliveries: list[dict] = []  # demo webhook deliveries: event id, type, HTTP status, body
        self.refund_status = "succeeded"  # status of new refunds (Stripe: card refunds may stay pending)
        self.webhook_delay = webhook_delay
        # Saved answers by (API key, Idempotency-Key). Differs on purpose: Stripe forgets keys after
        # 24 hours; the fake keeps them for its lifetime (a test never runs that long).
        self._idem: dict[tuple[str, str], tuple[tuple, int, dict]] = {}
        self._fail: list[tuple[int, bool]] = []
        self._holds: dict[str, Hold] = {}
        self._webhooks_open = threading.Event()
        self._webhooks_open.set()
        self._lock = threading.RLock()
        self._seq = 0
        self._order: dict[str, int] = {}
        self.demo_webhook: tuple[str, str] | None = None  # (webhook url, secret) in demo mode
        self._conns: set = set()  # open client sockets, closed by go_down()
        self.down = False
        self._handler = self._handler_class()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True)

    # --- lifecycle ---
    def start(self) -> StripeFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        for h in self._holds.values():
            h.release.set()
        self._webhooks_open.set()
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
        """The end of the outage: listen again on the same port, with the same data."""
        port = int(self.url.rsplit(":", 1)[1])
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler)
        self.server.daemon_threads = True
        self.down = False
        self._thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True)
        self._thread.start()

    # --- objects ---
    def _created(self, oid: str) -> None:
        # Strictly increasing creation order for lists (Stripe sorts by creation, newest first).
        with self._lock:
            self._seq += 1
            self._order[oid] = self._seq

    def _session_object(self, sid: str, params: dict, livemode: bool, amount: int) -> dict:
        now = int(time.time())
        return {
            "id": sid,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {"enabled": False, "status": None},
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": params.get("line_items[0][price_data][currency]"),
            "custom_fields": [],
            "custom_text": {"shipping_address": None, "submit": None},
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": now + 24 * 3600,
            "invoice": None,
            "invoice_creation": None,
            "livemode": livemode,
            "locale": None,
            "metadata": nested(params, "metadata"),
            "mode": params.get("mode") or "payment",
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always",
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_details": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "url": (f"{self.url}/c/pay/{sid}" if self.demo_webhook else f"https://checkout.stripe.test/c/pay/{sid}"),
        }

    @staticmethod
    def public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _payment_intent(self, session: dict) -> dict:
        pid = "pi_" + ("live_" if session["livemode"] else "test_") + secrets.token_hex(12)
        pi = {
            "id": pid, "object": "payment_intent", "amount": session.get("amount_total") or 0,
            "amount_capturable": 0, "amount_received": session.get("amount_total") or 0,
            "capture_method": "automatic", "client_secret": None, "confirmation_method": "automatic",
            "created": int(time.time()), "currency": session.get("currency") or "usd", "customer": None,
            "description": None, "latest_charge": "ch_" + secrets.token_hex(12), "livemode": session["livemode"],
            "metadata": {}, "payment_method": None, "payment_method_types": ["card"], "status": "succeeded",
            "_amount_refunded": 0,
        }
        self.payment_intents[pid] = pi
        return pi

    def _charge_object(self, pi: dict) -> dict:
        # Differs on purpose: charges have no API route here (the app never reads one); the
        # object exists for charge.refunded events only.
        refunded = pi["_amount_refunded"]
        return {
            "id": pi["latest_charge"], "object": "charge", "amount": pi["amount"], "amount_captured": pi["amount"],
            "amount_refunded": refunded,
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "captured": True, "created": pi["created"], "currency": pi["currency"], "disputed": False,
            "livemode": pi["livemode"], "metadata": {}, "paid": True, "payment_intent": pi["id"],
            "refunded": refunded >= pi["amount"], "status": "succeeded",
        }

    def _expand_session(self, session: dict, wanted: set[str]) -> dict:
        out = self.public(session)
        for field in wanted:
            if field == "payment_intent":
                if out["payment_intent"]:
                    out["payment_intent"] = self.public(self.payment_intents[out["payment_intent"]])
            elif field == "line_items":
                out["line_items"] = self._list(self.line_items.get(session["id"], []),
                                               f"/v1/checkout/sessions/{session['id']}/line_items", {})
            else:
                raise StripeError(400, f"This property cannot be expanded ({field}).", param="expand")
        return out

    def _list(self, items: list[dict], url: str, params: dict) -> dict:
        """Stripe list: newest first, `limit` (1-100, default 10), id cursors."""
        raw = params.get("limit", "10")
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise StripeError(400, "Invalid integer: limit must be between 1 and 100", param="limit")
        limit = int(raw)
        ordered = sorted(items, key=lambda o: self._order.get(o["id"], 0), reverse=True)
        after, before = params.get("starting_after"), params.get("ending_before")
        ids = [o["id"] for o in ordered]
        if after:
            if after not in ids:
                raise missing("object", after, "starting_after")
            ordered = ordered[ids.index(after) + 1 :]
            page = ordered[:limit]
            has_more = len(ordered) > limit
        elif before:
            if before not in ids:
                raise missing("object", before, "ending_before")
            ordered = ordered[: ids.index(before)]
            page = ordered[-limit:]
            has_more = len(ordered) > limit
        else:
            page = ordered[:limit]
            has_more = len(ordered) > limit
        return {"object": "list", "data": [self.public(o) for o in page], "has_more": has_more, "url": url}

    # --- the API, one method per route; each returns (status, body) or raises StripeError ---
    def _create_session(self, params: dict, livemode: bool) -> dict:
        if params.get("mode") != "payment":
            raise StripeError(400, "The fake supports mode=payment only.", param="mode")
        if "line_items[0][price_data][unit_amount]" not in params:
            raise StripeError(400, "Missing required param: line_items.", param="line_items")
        if not params.get("success_url"):
            raise StripeError(400, "Missing required param: success_url.", param="success_url")
        sid = ("cs_live_" if livemode else "cs_test_") + secrets.token_hex(16)
        items, amount = [], 0
        for i in range(100):
            if f"line_items[{i}][price_data][unit_amount]" not in params:
                break
            unit = int(params[f"line_items[{i}][price_data][unit_amount]"])
            qty = int(params.get(f"line_items[{i}][quantity]", "1"))
            amount += unit * qty
            items.append({
                "id": "li_" + secrets.token_hex(12), "object": "item", "amount_discount": 0,
                "amount_subtotal": unit * qty, "amount_tax": 0, "amount_total": unit * qty,
                "currency": params.get(f"line_items[{i}][price_data][currency]"),
                "description": params.get(f"line_items[{i}][price_data][product_data][name]") or "",
                "quantity": qty,
            })
            self._created(items[-1]["id"])
        session = self._session_object(sid, params, livemode, amount)
        with self._lock:
            self.sessions[sid] = session
            self.line_items[sid] = items
            self._created(sid)
        return self._expand_session(session, expands(params))

    def _visible(self, table: dict, oid: str, kind: str, livemode: bool, param: str = "id") -> dict:
        obj = table.get(oid)
        if obj is None or bool(obj.get("livemode", obj.get("_livemode"))) != livemode:
            raise missing(kind, oid, param)
        return obj

    def _list_sessions(self, params: dict, livemode: bool) -> dict:
        items = [s for s in self.sessions.values() if bool(s.get("livemode")) == livemode]
        for op, test in (("gte", int.__ge__), ("gt", int.__gt__), ("lte", int.__le__), ("lt", int.__lt__)):
            raw = params.get(f"created[{op}]")
            if raw is not None:
                if not raw.lstrip("-").isdigit():
                    raise StripeError(400, f"Invalid integer: {raw}", param=f"created[{op}]")
                items = [s for s in items if test(int(s.get("created") or 0), int(raw))]
        if params.get("status"):
            if params["status"] not in ("open", "complete", "expired"):
                raise StripeError(400, "Invalid status", param="status")
            items = [s for s in items if s.get("status") == params["status"]]
        if params.get("payment_intent"):
            items = [s for s in items if s.get("payment_intent") == params["payment_intent"]]
        out = self._list(items, "/v1/checkout/sessions", params)
        wanted = {e[len("data."):] for e in expands(params) if e.startswith("data.")}
        if wanted - {"payment_intent", "line_items"} or any(not e.startswith("data.") for e in expands(params)):
            raise StripeError(400, "This property cannot be expanded.", param="expand")
        out["data"] = [self._expand_session(self.sessions[s["id"]], wanted) for s in out["data"]]
        return out

    def _expire(self, sid: str, livemode: bool) -> dict:
        session = self._visible(self.sessions, sid, "checkout.session", livemode, "session")
        with self._lock:
            if session["status"] != "open":
                raise StripeError(400, f"Only Checkout Sessions with a status of `open` can be expired. "
                                  f"This session has a status of `{session['status']}`.", param="session")
            session.update(status="expired", url=None)
        return self.public(session)

    def _create_refund(self, params: dict, livemode: bool) -> dict:
        pid = params.get("payment_intent")
        if not pid and params.get("charge"):
            pid = next((p["id"] for p in self.payment_intents.values() if p["latest_charge"] == params["charge"]), None)
            if pid is None:
                raise missing("charge", params["charge"], "charge")
        if not pid:
            raise StripeError(400, "One of the following params should be provided for this request: "
                              "payment_intent or charge.", param="payment_intent")
        if params.get("reason") and params["reason"] not in REFUND_REASONS:
            raise StripeError(400, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
        with self._lock:
            pi = self._visible(self.payment_intents, pid, "payment_intent", livemode, "payment_intent")
            left = pi["amount"] - pi["_amount_refunded"]
            if left <= 0:
                raise StripeError(400, f"Charge {pi['latest_charge']} has already been refunded.",
                                  code="charge_already_refunded")
            amount = int(params["amount"]) if params.get("amount", "").isdigit() else left
            if amount <= 0 or amount > left:
                raise StripeError(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                                  code="amount_too_large", param="amount")
            pi["_amount_refunded"] += amount
            rid = "re_" + secrets.token_hex(12)
            refund = {
                "id": rid, "object": "refund", "amount": amount, "balance_transaction": None,
                "charge": pi["latest_charge"], "created": int(time.time()), "currency": pi["currency"],
                "metadata": nested(params, "metadata"), "payment_intent": pid, "reason": params.get("reason"),
                "receipt_number": None, "source_transfer_reversal": None, "status": self.refund_status,
                "transfer_reversal": None, "_livemode": livemode,
            }
            self.refunds[rid] = refund
            self._created(rid)
        if self.demo_webhook:
            self._send_later(self.event("refund.created", self.public(refund), livemode))
            self._send_later(self.event("charge.refunded", self._charge_object(pi), livemode))
        return self.public(refund)

    def _list_refunds(self, params: dict, livemode: bool) -> dict:
        items = [r for r in self.refunds.values() if r["_livemode"] == livemode]
        if params.get("payment_intent"):
            items = [r for r in items if r["payment_intent"] == params["payment_intent"]]
        if params.get("charge"):
            items = [r for r in items if r["charge"] == params["charge"]]
        return self._list(items, "/v1/refunds", params)

    def route(self, method: str, path: str, params: dict, livemode: bool) -> tuple[int, dict, str | None]:
        """(status, body, hold route name) for one authenticated API call."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"]:
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        rest = parts[1:]
        if method == "POST" and rest == ["checkout", "sessions"]:
            return 200, self._create_session(params, livemode), "checkout.sessions.create"
        if method == "GET" and rest == ["checkout", "sessions"]:
            return 200, self._list_sessions(params, livemode), None
        if rest[:2] == ["checkout", "sessions"] and len(rest) == 3 and method == "GET":
            with self._lock:
                self.retrievals.append(rest[2])
            session = self._visible(self.sessions, rest[2], "checkout.session", livemode, "session")
            return 200, self._expand_session(session, expands(params)), None
        if rest[:2] == ["checkout", "sessions"] and len(rest) == 4 and rest[3] == "line_items" and method == "GET":
            self._visible(self.sessions, rest[2], "checkout.session", livemode, "session")
            return 200, self._list(self.line_items.get(rest[2], []), path, params), None
        if rest[:2] == ["checkout", "sessions"] and len(rest) == 4 and rest[3] == "expire" and method == "POST":
            return 200, self._expire(rest[2], livemode), None
        if rest == ["refunds"] and method == "POST":
            return 200, self._create_refund(params, livemode), "refunds.create"
        if rest == ["refunds"] and method == "GET":
            return 200, self._list_refunds(params, livemode), None
        if rest[:1] == ["refunds"] and len(rest) == 2 and method == "GET":
            return 200, self.public(self._visible(self.refunds, rest[1], "refund", livemode)), None
        if rest[:1] == ["payment_intents"] and len(rest) == 2 and method == "GET":
            return 200, self.public(self._visible(self.payment_intents, rest[1], "payment_intent", livemode)), None
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed ACK

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

            def _send(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Request-Id", "req_fake_" + secrets.token_hex(6))
                    self.send_header("Stripe-Version", API_VERSION)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the caller is gone (a killed worker)
                    pass

            def _api(self, method: str):
                split = urlsplit(self.path)
                if split.path.startswith("/c/pay/") and fake.demo_webhook and method == "GET":
                    return self._demo_pay(split.path[len("/c/pay/") :])
                body = ""
                if method == "POST":
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = dict(parse_qsl(body if method == "POST" else split.query, keep_blank_values=True))
                auth = self.headers.get("Authorization", "")
                key = api_key_of(auth)
                if key not in fake.api_keys:
                    message = (f"Invalid API Key provided: {key[:8]}****{key[-4:]}" if key else
                               "You did not provide an API key. You need to provide your API key in the "
                               "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
                    return self._send(401, {"error": {"type": "invalid_request_error", "message": message}})
                livemode = key.startswith(("sk_live_", "rk_live_"))
                idem = self.headers.get("Idempotency-Key") if method == "POST" else None
                fingerprint = (method, split.path, tuple(sorted(params.items())))
                call = {"method": method, "path": split.path, "params": params, "idempotency_key": idem,
                        "replayed": False}
                with fake._lock:
                    fake.calls.append(call)
                    if method == "POST" and split.path == "/v1/checkout/sessions":
                        fake.requests.append({"params": params, "idempotency_key": idem, "authorization": auth})
                    saved = fake._idem.get((key, idem)) if idem else None
                    if saved is not None:
                        if saved[0] != fingerprint:
                            call["status"] = 400
                            return self._send(400, {"error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters "
                                           "they were first used with. Try using a key other than "
                                           f"'{idem}' if you meant to execute a different request."}})
                        call.update(status=saved[1], replayed=True)
                        return self._send(saved[1], saved[2], {"Idempotent-Replayed": "true",
                                                               "Original-Request": "req_fake"})
                    failure = fake._fail.pop(0) if fake._fail else None
                if failure is not None and not failure[1]:
                    # Failed before the request was executed: nothing saved, the client may retry.
                    call["status"] = failure[0]
                    return self._send(failure[0], {"error": {"type": "api_error", "message": "fake failure"}},
                                      {"Stripe-Should-Retry": "true"})
                hold_name = None
                try:
                    status, out, hold_name = fake.route(method, split.path, params, livemode)
                except StripeError as exc:
                    status, out = exc.status, exc.body
                if failure is not None:  # executed, then failed: saved and replayed like any answer
                    status, out = failure[0], {"error": {"type": "api_error", "message": "fake failure after "
                                                         "the request was executed"}}
                call.update(status=status, response=out)
                if idem and status not in (401, 429):
                    with fake._lock:
                        fake._idem[(key, idem)] = (fingerprint, status, out)
                hold = fake._holds.get(hold_name) if hold_name else None
                if hold is not None:
                    hold.reached.set()
                    hold.release.wait(60)
                headers = {"Stripe-Should-Retry": "false"} if failure is not None else None
                self._send(status, out, headers)

            def do_GET(self):
                self._api("GET")

            def do_POST(self):
                self._api("POST")

            def do_DELETE(self):
                self._api("DELETE")

            def _demo_pay(self, sid: str):
                session = fake.sessions.get(sid)
                if session is None:
                    return self._send(404, {"error": {"type": "invalid_request_error", "message": "no such session"}})
                if session["status"] != "open":
                    return self._send(400, {"error": {"type": "invalid_request_error",
                                                      "message": f"this Checkout Session is {session['status']}"}})
                paid = fake.mark_paid(sid)
                target = (paid.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", sid)
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                # As Stripe: the redirect first, the webhook after (possibly after the success page).
                fake._send_later(fake.event("checkout.session.completed", paid, paid["livemode"]))

        return Handler

    # --- events and webhooks ---
    def event(self, event_type: str, obj: dict, livemode: bool | None = None) -> dict:
        """A Stripe event about `obj` (as Stripe would send it), recorded in `events`."""
        event = {
            "id": "evt_" + secrets.token_hex(12), "object": "event", "api_version": API_VERSION,
            "created": int(time.time()), "data": {"object": self.public(obj)},
            "livemode": bool(obj.get("livemode")) if livemode is None else livemode,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": event_type,
        }
        with self._lock:
            self.events.append(event)
        return event

    def post_event(self, event: dict) -> int:
        """POST a signed event to the demo webhook now; returns the HTTP status."""
        import urllib.error
        import urllib.request

        assert self.demo_webhook is not None
        url, secret = self.demo_webhook
        payload = json.dumps(event)
        req = urllib.request.Request(url, data=payload.encode(), method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the app's own URL
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except OSError as exc:  # the app is not up: Stripe would retry later; the fake records it
            status, body = 0, str(exc).encode()
        with self._lock:
            self.deliveries.append({"event_id": event["id"], "type": event["type"], "status": status,
                                    "body": body.decode(errors="replace")})
        return status

    def _send_later(self, event: dict) -> None:
        def run():
            self._webhooks_open.wait(120)
            if self.webhook_delay:
                time.sleep(self.webhook_delay)
            self.post_event(event)

        threading.Thread(target=run, daemon=True).start()

    def deliver(self, obj: dict, event_type: str = "checkout.session.completed") -> int:
        """POST a signed event about `obj` to the demo webhook now; returns the HTTP status."""
        return self.post_event(self.event(event_type, obj))

    def hold_webhooks(self) -> None:
        """Demo webhooks wait (a late webhook) until release_webhooks()."""
        self._webhooks_open.clear()

    def release_webhooks(self) -> None:
        self._webhooks_open.set()

    # --- test hooks ---
    def hold(self, route: str) -> Hold:
        """Hold the answers of a route ("refunds.create", "checkout.sessions.create") after it executed."""
        h = Hold()
        with self._lock:
            self._holds[route] = h
        return h

    def unhold(self, route: str) -> None:
        with self._lock:
            h = self._holds.pop(route, None)
        if h is not None:
            h.release.set()

    def update(self, sid: str, **fields) -> dict:
        with self._lock:
            self.sessions[sid].update(fields)
            return self.public(self.sessions[sid])

    def mark_paid(self, sid: str) -> dict:
        """The customer paid: complete, paid, a succeeded PaymentIntent, their e-mail, no url.
        Differs on purpose: payment is instant (no 3-D Secure, no delayed methods)."""
        with self._lock:
            session = self.sessions[sid]
            if session.get("payment_intent") is None and session.get("mode", "payment") == "payment":
                session["payment_intent"] = self._payment_intent(session)["id"]
            details = session.get("customer_details") or {
                "address": None, "email": session.get("customer_email") or "customer@example.test",
                "name": None, "phone": None, "tax_exempt": "none", "tax_ids": [],
            }
            return self.update(sid, payment_status="paid", status="complete", url=None, customer_details=details)

    def fail_next(self, status: int = 500, times: int = 1, executed: bool = False) -> None:
        """The next `times` API calls answer `status`. executed=False: failed before running
        (nothing saved, Stripe-Should-Retry: true, a retry with the same key runs it);
        executed=True: it ran and then failed, and the answer is saved for its key."""
        with self._lock:
            self._fail.extend([(status, executed)] * times)

    def add_session(self, **fields) -> dict:
        """A session the app did not create (e.g. from another integration), paid by default."""
        livemode = bool(fields.get("livemode", False))
        sid = ("cs_live_" if livemode else "cs_test_") + secrets.token_hex(16)
        params = {"mode": "payment", "success_url": "https://elsewhere.example/ok"}
        session = self._session_object(sid, params, livemode, fields.get("amount_total") or 0)
        session.update(fields)
        with self._lock:
            self.sessions[sid] = session
            self.line_items[sid] = []
            self._created(sid)
        if fields.get("payment_status", "paid") == "paid":
            self.mark_paid(sid)
        return self.update(sid, **fields)


def main(argv: list[str] | None = None) -> int:
    """Serve the fake standalone for a local demo: python -m dev.stripe_fake --port 12111"""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--api-key", action="append", help="a secret key the fake accepts (repeatable); "
                    "default: the test keys of dev/stripe_fake.py")
    ap.add_argument("--webhook-url", help="the app's webhook: enables the demo Checkout page /c/pay/ID")
    ap.add_argument("--webhook-secret", help="the secret to sign demo webhook events with")
    ap.add_argument("--webhook-delay", type=float, default=1.0,
                    help="seconds between the redirect to the success page and the webhook (default 1)")
    a = ap.parse_args(argv)
    fake = StripeFake(api_keys=a.api_key or (TEST_KEY, LIVE_KEY), webhook_delay=a.webhook_delay)
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
