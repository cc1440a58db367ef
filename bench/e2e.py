"""End to end: signed Stripe webhooks POSTed to the app under gunicorn (its production
WSGI server), with the Stripe API served by the local fake of dev/stripe_fake.py.

After a warm-up (WARM_UP deliveries and /healthz requests, not measured), per repetition: N
pending purchases (create_checkout_purchase + attach_checkout_session,
in SQL), their paid Checkout Sessions in the fake, then N checkout.session.completed
events, signed like Stripe signs them, POSTed by `clients` threads (keep-alive
connections); 10 % are delivered twice, as Stripe retries do. Afterwards the database
must hold exactly one session per event (no loss, no double), else WrongResult.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

from bench import WrongResult
from bench.cpu import CpuAccount, parent_pid
from bench.gunicorn import GunicornApp
from bench.measure import RelayRunning, Settings, Skip, require
from bench.stats import median_of, summarize

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_bench_" + "0" * 24
DUPLICATE_EVERY = 10
WARM_UP = 400  # deliveries (and /healthz requests) before the measured repetitions


class Gunicorn(GunicornApp):
    """The app as `make run` serves it, against the work copy and the Stripe fake."""

    def __init__(self, db_url: str, stripe_api: str, workers: int):
        super().__init__(dict(DATABASE_URL=db_url, STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                              STRIPE_API_BASE=stripe_api, JWT_SECRET="bench-jwt-secret-" + "x" * 32), workers)

    def wait_ready(self, timeout: float = 30.0) -> None:
        super().wait_ready(timeout, error=Skip)


def prepare_purchases(conn: psycopg.Connection, fake, n: int, customers: int) -> list[tuple[str, str]]:
    """n pending purchases with paid sessions in the fake; returns [(purchase_id, cs_id)]."""
    rows = conn.execute(
        """
        SELECT p.id, p.amount_minor, p.currency
        FROM generate_series(1, %(n)s) AS i,
             -- each purchase acts for its customer: identify it as the app does (app.customer_id)
             LATERAL (SELECT set_config('app.customer_id', md5('bench-c-' || (1 + (i * 7) %% %(c)s)), TRUE)) AS s (c),
             LATERAL create_checkout_purchase(s.c::uuid,
                                              (ARRAY['video15', 'video30', 'diag45'])[1 + i %% 3],
                                              NULL, 'broadcast') AS p
        ORDER BY i
        """,
        {"n": n, "c": customers},
    ).fetchall()
    out = []
    for pid, amount, currency in rows:
        s = fake.add_session(client_reference_id=str(pid), amount_total=amount, currency=currency)
        out.append((str(pid), s["id"]))
    with conn.cursor() as cur:
        cur.executemany(
            "SELECT a.id FROM (SELECT set_config('app.customer_id', cp.customer_id::text, TRUE) "
            "FROM checkout_purchases AS cp WHERE cp.id = %s) AS s (c) "
            "CROSS JOIN LATERAL attach_checkout_session(%s, %s) AS a WHERE s.c IS NOT NULL",
            [(pid, pid, cs) for pid, cs in out],
        )
    return out


def event_for(cs_id: str) -> tuple[str, bytes]:
    evt = "evt_bench_" + uuid.uuid4().hex
    body = json.dumps({
        "id": evt, "object": "event", "type": "checkout.session.completed", "livemode": False,
        "api_version": "2025-01-27.acacia", "created": int(time.time()),
        "data": {"object": {"id": cs_id, "object": "checkout.session"}},
    }).encode()
    return evt, body


def post_all(port: int, deliveries: list[tuple[str, bytes]], clients: int, sign, path: str = "/api/stripe/webhook",
             method: str = "POST") -> dict:
    """POST every (event id, body) from `clients` threads; latencies and non-200 answers.
    With method GET and another path, the same client calls that endpoint instead (the baseline)."""
    lat: list[float] = []
    bad: list[str] = []
    lock = threading.Lock()
    it = iter(deliveries)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                break
            evt, body = item
            headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, WEBHOOK_SECRET)}
            t0 = time.perf_counter()
            try:
                if method == "GET":
                    conn.request("GET", path)
                else:
                    conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                text = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, text = 0, repr(exc).encode()
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
                if status != 200:
                    bad.append(f"{evt}: HTTP {status} {text[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": lat, "bad": bad, "elapsed": time.perf_counter() - t0}


def post_all_elsewhere(*args, **kwargs) -> dict:
    """post_all in a child process: the client's 8 threads must not share a Python interpreter
    (its GIL) with the Stripe fake, which serves the app's re-fetches from this process; the
    real Stripe runs elsewhere. Same client for the webhooks and the /healthz baseline."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as ex:
        return ex.submit(post_all, *args, **kwargs).result()


def check_one_session_per_event(conn: psycopg.Connection, cs_ids: list[str], event_ids: list[str]) -> None:
    """Each event's Checkout Session has exactly one session and one request; each event recorded once."""
    sessions, distinct_cs, requests = conn.execute(
        """
        SELECT count(s.id), count(DISTINCT s.stripe_checkout_session_id), count(r.id)
        FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id
        WHERE s.stripe_checkout_session_id = ANY(%s)
        """,
        (cs_ids,),
    ).fetchone()
    events = conn.execute("SELECT count(*) FROM stripe_events WHERE id = ANY(%s)", (event_ids,)).fetchone()[0]
    n = len(cs_ids)
    if sessions != n or distinct_cs != n or requests != n or events != len(event_ids):
        raise WrongResult(
            f"webhooks: {n} paid events but {sessions} sessions for {distinct_cs} checkout sessions, "
            f"{requests} requests, {events} of {len(event_ids)} events recorded (lost or doubled)"
        )


def local_postmaster(conn: psycopg.Connection) -> int | None:
    """The pid of the server's postmaster when it runs on this machine (its backends are then
    children of it in /proc), else None."""
    backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        with open(f"/proc/{backend}/cmdline", "rb") as fh:
            if not fh.read().startswith(b"postgres"):
                return None
    except OSError:
        return None
    return parent_pid(backend)


def per_item(used: dict[str, float], n: int) -> dict[str, float]:
    """CPU ms per request of each process group (and in all), from CpuAccount.delta()."""
    out = {group: round(seconds * 1000 / n, 3) for group, seconds in used.items()}
    out["total"] = round(sum(used.values()) * 1000 / n, 3)
    return out


def run(url: str, sizes, st: Settings, log=print) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "handle_checkout_event", "create_checkout_purchase", "attach_checkout_session",
                "ssr_private.fulfill_checkout")
        postmaster = local_postmaster(conn)
    try:
        sys.path.insert(0, str(ROOT))
        from dev.stripe_fake import StripeFake, sign
    except ImportError as exc:
        raise Skip(f"dev/stripe_fake.py is missing ({exc})") from exc
    try:
        import app  # noqa: F401 - the app must import for gunicorn to serve it
    except Exception as exc:
        raise Skip(f"the app does not import: {exc}") from exc
    workers = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
    fake = StripeFake(api_keys=("sk_test_bench",))
    # The fake writes headers and body separately: with Nagle's algorithm on, each answer
    # waits for a delayed ACK (~40 ms) that real Stripe does not cost. Not our latency.
    fake.server.RequestHandlerClass.disable_nagle_algorithm = True
    connections = [0]

    class CountingHandler(fake.server.RequestHandlerClass):
        """The fake's handler, counting TCP connections (one handler per connection)."""

        def setup(self):
            connections[0] += 1
            super().setup()

    fake.server.RequestHandlerClass = CountingHandler
    fake.start()
    web = Gunicorn(url, fake.url, workers)
    reps = []
    baseline = []
    try:
        web.wait_ready()
        # CPU per process group: the app under gunicorn, the database server, and this process
        # (the Stripe fake's threads and the client's child process).
        cpu_roots = {"app": web.proc.pid, "database": postmaster, "stripe_fake_and_client": os.getpid()}
        per_rep = max(10, st.e2e_events // st.reps)

        def healthz_rep(n: int) -> dict:
            cpu = CpuAccount(cpu_roots)
            got = post_all_elsewhere(web.port, [("healthz", b"")] * n, st.clients, sign, path="/healthz",
                                     method="GET")
            used = cpu.delta()
            if got["bad"]:
                raise WrongResult(f"/healthz: {len(got['bad'])} answers not 200, first: {got['bad'][0]}")
            b = summarize(got["latencies"])
            b.update(requests=n, requests_per_s=round(n / got["elapsed"], 1), cpu_ms_per_request=per_item(used, n))
            return b

        def webhook_rep(n: int) -> dict:
            with psycopg.connect(url, autocommit=True) as conn:
                pairs = prepare_purchases(conn, fake, n, sizes.customers)
            events = [event_for(cs) for _, cs in pairs]
            deliveries = list(events) + [events[i] for i in range(0, len(events), DUPLICATE_EVERY)]
            cpu = CpuAccount(cpu_roots)
            with RelayRunning(url):
                got = post_all_elsewhere(web.port, deliveries, st.clients, sign)
            used = cpu.delta()
            if got["bad"]:
                raise WrongResult(f"webhooks: {len(got['bad'])} deliveries not answered 200, first: {got['bad'][0]}; "
                                  f"server log: {web.log_tail(600)}")
            with psycopg.connect(url, autocommit=True) as conn:
                check_one_session_per_event(conn, [cs for _, cs in pairs], [e for e, _ in events])
            s = summarize(got["latencies"])
            s.update(events=len(events), deliveries=len(deliveries),
                     events_per_s=round(len(deliveries) / got["elapsed"], 1),
                     cpu_ms_per_delivery=per_item(used, len(deliveries)))
            return s

        # Warm-up, not measured: every worker's pool connections open, their backends compile the
        # PL/pgSQL functions and psycopg prepares the webhook's statement (after 5 runs on each
        # connection). A repetition then measures the steady state, for the baseline and the
        # webhooks alike, instead of one-time costs spread over a short run.
        healthz_rep(WARM_UP)
        webhook_rep(WARM_UP)
        for _ in range(st.reps):
            # The web stack's own ceiling: the same gunicorn and client on /healthz (no database
            # table, no Stripe call), as many requests as the webhook repetition delivers.
            baseline.append(healthz_rep(per_rep + per_rep // DUPLICATE_EVERY))
            reps.append(webhook_rep(per_rep))
    finally:
        web.stop()
        fake.stop()
    out = median_of(reps)
    out.update(gunicorn_workers=workers, duplicates_every=DUPLICATE_EVERY, one_session_per_event=True)
    out["baseline_healthz"] = median_of(baseline)
    # Each webhook repetition runs right after its /healthz repetition: the ratio is the median of
    # the pairs' ratios, so the machine's drift between repetitions stays out of it.
    pairs = [w["events_per_s"] / h["requests_per_s"] for w, h in zip(reps, baseline, strict=True)]
    out["ratio_to_baseline"] = round(statistics.median(pairs), 3)
    out["pair_ratios"] = [round(x, 3) for x in pairs]
    out["stripe_retrievals"] = len(fake.retrievals)
    out["stripe_connections"] = connections[0]
    out["breakdown"] = breakdown(url, st)
    return out


def breakdown(url: str, st: Settings, n: int = 200) -> dict:
    """Where a delivery's time goes, each part timed alone in this process (p50 ms): the
    signature check and JSON parse, the Checkout Session re-fetch from the Stripe fake (with the
    app's client, one keep-alive connection; and with a new client, hence a new connection, per
    call), and the database call of the webhook (handle_checkout_event on a paid purchase)."""
    import stripe
    from stripe import StripeClient

    from dev.stripe_fake import StripeFake, sign

    fake = StripeFake(api_keys=("sk_test_bench",))
    fake.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            pairs = prepare_purchases(conn, fake, n, 1000)
        events = [event_for(cs) for _, cs in pairs]
        sigs = [sign(body, WEBHOOK_SECRET) for _, body in events]
        verify = []
        for (_, body), sig in zip(events, sigs, strict=True):
            t0 = time.perf_counter()
            stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET).to_dict()
            verify.append(time.perf_counter() - t0)
        from app.payments import http_client

        # The app's client: its kept-alive requests.Session, and raw_request as the webhook does.
        client = StripeClient("sk_test_bench", base_addresses={"api": fake.url}, max_network_retries=2,
                              http_client=http_client(fake.url, 5.0))
        keep = []
        for _, cs in pairs:
            t0 = time.perf_counter()
            assert client.raw_request("get", f"/v1/checkout/sessions/{cs}").data["id"] == cs
            keep.append(time.perf_counter() - t0)
        typed = []
        for _, cs in pairs:
            t0 = time.perf_counter()
            client.v1.checkout.sessions.retrieve(cs).to_dict()
            typed.append(time.perf_counter() - t0)
        fresh = []
        for _, cs in pairs[: n // 2]:
            t0 = time.perf_counter()
            c = StripeClient("sk_test_bench", base_addresses={"api": fake.url}, max_network_retries=2)
            c.v1.checkout.sessions.retrieve(cs).to_dict()
            fresh.append(time.perf_counter() - t0)
        db = []
        with psycopg.connect(url, autocommit=True) as conn:
            for (evt, _), (pid, cs) in zip(events, pairs, strict=True):
                s = fake.sessions[cs]
                t0 = time.perf_counter()
                conn.execute("SELECT * FROM handle_checkout_event(%s, %s, %s, %s, %s, %s, %s, %s)",
                             (evt, "checkout.session.completed", False, cs, pid, "paid", s["amount_total"],
                              s["currency"]), prepare=True).fetchall()
                db.append(time.perf_counter() - t0)
    finally:
        fake.stop()
    return {
        "verify_and_parse": summarize(verify),
        "stripe_refetch_keepalive": summarize(keep),
        "stripe_refetch_typed_object": summarize(typed),
        "stripe_refetch_new_connection": summarize(fresh),
        "db_handle_checkout_event": summarize(db),
    }
