"""Live offers end to end: from a paid webhook to the offer event at connected mechanic
clients, with BENCH_SSE_CLIENTS (200) Server-Sent Events streams open on the app under
gunicorn (gunicorn.conf.py: gthread workers, one LISTEN connection per worker), with the
background worker beside it relaying the routing notifications (`python -m worker.supervisor
--only relay`: the one sender of them, as in production).

Per repetition: `events` pending broadcast purchases with paid sessions in the Stripe fake;
each checkout.session.completed event is signed and POSTed to the webhook, one at a time,
paced (PACE_S apart, so each latency is the path's own, not a queue's); every connected
client records when the `created` event of that request reaches it. Latency = arrival at a
client - the moment before the webhook POST, over every (event, client) pair. Every client
must get every event (else WrongResult: a lost event). Baseline from the same run: the
directory API's latency through the same server with no stream open, then with all open
(the threads the streams hold must not starve the API).

All clients are read by one selector loop in this process (no thread per client), so the
client side adds little; it shares the machine's 2 cores with gunicorn and Postgres.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

import jwt
import psycopg

from bench import WrongResult, e2e
from bench.measure import Settings, Skip, require
from bench.stats import median_of, summarize

PACE_S = 0.1
EVENTS_PER_REP = 30
API_CALLS = 100


class Streams:
    """N SSE connections read by one selector thread; arrivals[request_id] = [times]."""

    def __init__(self, port: int, tokens: list[str]):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.open = 0
        self.refused: list[str] = []
        self._stop = False
        for tok in tokens:
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall((f"GET /api/mechanic/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                       f"Authorization: Bearer {tok}\r\n\r\n").encode())
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, {"buf": b"", "head": True})
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self._stop:
            for key, _ in self.sel.select(timeout=0.2):
                now = time.perf_counter()
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                st = key.data
                if not data:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                st["buf"] += data
                if st["head"]:
                    end = st["buf"].find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    status = st["buf"].split(b" ", 2)[1]
                    st["head"] = False
                    st["buf"] = st["buf"][end + 4:]
                    with self.lock:
                        if status == b"200":
                            self.open += 1
                        else:
                            self.refused.append(status.decode())
                *lines, st["buf"] = st["buf"].split(b"\n")
                for line in lines:
                    if line.startswith(b"data: "):
                        n = json.loads(line[6:])
                        if n.get("event") == "created":
                            with self.lock:
                                self.arrivals.setdefault(n["request_id"], []).append(now)

    def wait_open(self, n: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.open + len(self.refused) >= n:
                    break
            time.sleep(0.05)
        if self.open != n:
            raise WrongResult(f"live: {self.open} of {n} streams open, refused: {self.refused[:5]}")

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=5)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


def api_latency(port: int, n: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("GET", "/api/workshops/directory?limit=20")
            resp = conn.getresponse()
            resp.read()
            lat.append(time.perf_counter() - t0)
            if resp.status != 200:
                raise WrongResult(f"live: the directory API answered {resp.status} with the streams open")
    finally:
        conn.close()
    return summarize(lat)


def run(url: str, sizes, st: Settings, log=print, clients: int | None = None, workers: int | None = None,
        events_per_rep: int = EVENTS_PER_REP, api_calls: int = API_CALLS) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "get_mechanic_channels", "routing_outbox_replay", "handle_checkout_event")
        n_clients = clients or int(os.environ.get("BENCH_SSE_CLIENTS", "200"))
        mechanics = [str(r[0]) for r in conn.execute("SELECT id FROM mechanics ORDER BY id LIMIT %s", (n_clients,))]
    if len(mechanics) < n_clients:
        raise Skip(f"only {len(mechanics)} mechanics at this scale, {n_clients} clients wanted")
    from dev.stripe_fake import StripeFake, sign

    fake = StripeFake(api_keys=("sk_test_bench",))  # the key e2e.Gunicorn gives the app
    fake.start()
    workers = workers or int(os.environ.get("BENCH_WEB_WORKERS", "4"))
    web = e2e.Gunicorn(url, fake.url, workers)
    relay = subprocess.Popen([sys.executable, "-m", "worker.supervisor", "--only", "relay"], cwd=e2e.ROOT,
                             env={**os.environ, "DATABASE_URL": url, "STRIPE_SECRET_KEY": ""},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secret = "bench-jwt-secret-" + "x" * 32  # the JWT_SECRET e2e.Gunicorn gives the app
    now = int(time.time())
    tokens = [jwt.encode({"sub": m, "role": "mechanic", "iat": now, "exp": now + 3600}, secret, algorithm="HS256")
              for m in mechanics]
    streams = None
    reps = []
    try:
        web.wait_ready()
        api_alone = api_latency(web.port, api_calls)
        streams = Streams(web.port, tokens)
        streams.wait_open(n_clients)
        log(f"  {n_clients} streams open on {workers} workers")
        api_streams = api_latency(web.port, api_calls)
        conn_http = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
        for _ in range(st.reps):
            with psycopg.connect(url, autocommit=True) as conn:
                pairs = e2e.prepare_purchases(conn, fake, events_per_rep, sizes.customers)
            sent: dict[str, float] = {}
            for _, cs in pairs:
                _evt, body = e2e.event_for(cs)
                headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, e2e.WEBHOOK_SECRET)}
                t0 = time.perf_counter()
                conn_http.request("POST", "/api/stripe/webhook", body=body, headers=headers)
                resp = conn_http.getresponse()
                answer = json.loads(resp.read())
                if resp.status != 200 or not answer.get("session_request_id"):
                    raise WrongResult(f"live: webhook answered {resp.status} {answer}")
                sent[answer["session_request_id"]] = t0
                time.sleep(PACE_S)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with streams.lock:
                    if all(len(streams.arrivals.get(r, ())) >= n_clients for r in sent):
                        break
                time.sleep(0.05)
            with streams.lock:
                got = {r: list(streams.arrivals.get(r, ())) for r in sent}
            missing = {r: n_clients - len(v) for r, v in got.items() if len(v) != n_clients}
            if missing:
                raise WrongResult(f"live: events lost or doubled (request: clients short) {list(missing.items())[:3]}")
            lat = [t - sent[r] for r, times in got.items() for t in times]
            first = [min(times) - sent[r] for r, times in got.items()]
            s = summarize(lat)
            s.update(events=len(sent), deliveries=len(lat), first_client_p50_ms=summarize(first)["p50_ms"])
            reps.append(s)
        conn_http.close()
    finally:
        if streams is not None:
            streams.close()
        web.stop()
        relay.terminate()
        relay.wait(timeout=30)
        fake.stop()
    out = median_of(reps)
    out.update(clients=n_clients, gunicorn_workers=workers, worker_class="gthread", pace_ms=PACE_S * 1000,
               api_alone=api_alone, api_with_streams=api_streams, every_client_every_event=True)
    return out
