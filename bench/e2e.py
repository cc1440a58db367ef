"""End to end: signed Stripe webhooks POSTed to the app under gunicorn (its production
WSGI server), with the Stripe API served by the local fake of dev/stripe_fake.py.

After a warm-up (WARM_UP deliveries and /healthz requests, not measured), per repetition: N
pending purchases (create_checkout_purchase + attach_checkout_session,
in SQL), their paid Checkout Sessions in the fake, then N checkout.session.completed
events, signed like Stripe signs them, POSTed by `clients` threads (keep-alive
connections); 10 % are delivered twice, as Stripe retries do. Afterwards the database
must hold exactly one session per event (no loss, no double), else WrongResult.

The yardstick: the minimal correct handler (bench/reference_webhook.py: signature, re-fetch, one
INSERT ... ON CONFLICT DO NOTHING), under the same gunicorn settings, with the same client, the
same Stripe fake and as many deliveries (10 % twice), warmed up alike; each repetition runs the
app and the reference one right after the other (in alternating order), and the ratios (rate,
p50, p99) are the medians of the pairs'. Both phases are observed (wait events, WAL and write
transactions per delivery: bench/steady.py). Then both are profiled alike (bench/profiled.py:
one gunicorn worker, one client, cProfile per request) for where the app's extra time goes.
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
from bench.steady import Observed

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_bench_" + "0" * 24
DUPLICATE_EVERY = 10
WARM_UP = int(__import__("os").environ.get("BENCH_E2E_WARMUP") or 400)  # deliveries (and /healthz requests) before the measured repetitions


class Gunicorn(GunicornApp):
    """The app as `make run` serves it, against the work copy and the Stripe fake; with wsgi, the
    reference handler (bench/reference_webhook.py) or a profiled one (bench/profiled.py) instead,
    under the same settings and environment."""

    def __init__(self, db_url: str, stripe_api: str, workers: int, wsgi: str = "app.wsgi:app", **env):
        super().__init__(dict(DATABASE_URL=db_url, REFERENCE_DATABASE_URL=db_url, STRIPE_SECRET_KEY="sk_test_bench",
                              STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=stripe_api,
                              JWT_SECRET="bench-jwt-secret-" + "x" * 32, **env), workers, wsgi=wsgi)

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


def prepare_reference_events(fake, n: int) -> list[tuple[str, str]]:
    """n paid Checkout Sessions in the fake for the reference handler (it keeps its own table, so no
    purchase rows are needed): [(client_reference_id, cs_id)]."""
    out = []
    for i in range(n):
        ref = str(uuid.uuid4())
        s = fake.add_session(client_reference_id=ref, amount_total=(2900, 4900, 6900)[i % 3], currency="usd")
        out.append((ref, s["id"]))
    return out


def check_reference_recorded(conn: psycopg.Connection, cs_ids: list[str]) -> None:
    from bench.reference_webhook import TABLE

    got = conn.execute(f"SELECT count(*), count(DISTINCT checkout_session_id) FROM {TABLE} "
                       "WHERE checkout_session_id = ANY(%s)", (cs_ids,)).fetchone()
    if got != (len(cs_ids), len(cs_ids)):
        raise WrongResult(f"reference webhooks: {len(cs_ids)} paid events but {got[0]} purchases recorded")


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
    from bench.reference_webhook import ensure_table

    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn)
    web = Gunicorn(url, fake.url, workers)
    ref = Gunicorn(url, fake.url, workers, wsgi="bench.reference_webhook:application")
    reps = []
    ref_reps = []
    baseline = []
    try:
        web.wait_ready()
        ref.wait_ready()
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
            with RelayRunning(url), Observed(url, backends_exit=False) as ob:
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
                     cpu_ms_per_delivery=per_item(used, len(deliveries)), observed=ob.result(len(deliveries)))
            return s

        ref_roots = dict(cpu_roots, app=ref.proc.pid)

        def reference_rep(n: int) -> dict:
            """The same deliveries (n paid events, 10 % twice) to the reference handler, same client."""
            pairs = prepare_reference_events(fake, n)
            events = [event_for(cs) for _, cs in pairs]
            deliveries = list(events) + [events[i] for i in range(0, len(events), DUPLICATE_EVERY)]
            cpu = CpuAccount(ref_roots)
            with RelayRunning(url), Observed(url, backends_exit=False) as ob:
                got = post_all_elsewhere(ref.port, deliveries, st.clients, sign)
            used = cpu.delta()
            if got["bad"]:
                raise WrongResult(f"reference webhooks: {len(got['bad'])} deliveries not answered 200, first: "
                                  f"{got['bad'][0]}; server log: {ref.log_tail(600)}")
            with psycopg.connect(url, autocommit=True) as conn:
                check_reference_recorded(conn, [cs for _, cs in pairs])
            s = summarize(got["latencies"])
            s.update(events=len(events), deliveries=len(deliveries),
                     events_per_s=round(len(deliveries) / got["elapsed"], 1),
                     cpu_ms_per_delivery=per_item(used, len(deliveries)), observed=ob.result(len(deliveries)))
            return s

        # Warm-up, not measured: every worker's pool connections open, their backends compile the
        # PL/pgSQL functions and psycopg prepares the webhook's statement (after 5 runs on each
        # connection). A repetition then measures the steady state, for the baseline and the
        # webhooks alike, instead of one-time costs spread over a short run.
        healthz_rep(WARM_UP)
        webhook_rep(WARM_UP)
        reference_rep(WARM_UP)
        for rep in range(st.reps):
            # The web stack's own ceiling: the same gunicorn and client on /healthz (no database
            # table, no Stripe call), as many requests as the webhook repetition delivers.
            baseline.append(healthz_rep(per_rep + per_rep // DUPLICATE_EVERY))
            # The app and the reference handler, one right after the other, in alternating order.
            if rep % 2 == 0:
                reps.append(webhook_rep(per_rep))
                ref_reps.append(reference_rep(per_rep))
            else:
                ref_reps.append(reference_rep(per_rep))
                reps.append(webhook_rep(per_rep))
    finally:
        web.stop()
        ref.stop()
    try:
        profile = profile_both(url, fake, sizes, log=log)
    except Exception as exc:  # the figures stand without their profile
        profile = {"error": f"{exc}".splitlines()[0] if str(exc) else repr(exc)}
    finally:
        fake.stop()
    out = median_of(reps)
    out["observed"] = middle(reps)["observed"]
    out.update(gunicorn_workers=workers, duplicates_every=DUPLICATE_EVERY, one_session_per_event=True)
    reference = median_of(ref_reps)
    reference["observed"] = middle(ref_reps)["observed"]
    # Paired like the /healthz baseline: each app repetition beside the reference one run next to it.
    reference["rate_ratio"] = round(statistics.median(
        a["events_per_s"] / b["events_per_s"] for a, b in zip(reps, ref_reps, strict=True)), 3)
    reference["p99_ratio"] = round(statistics.median(
        a["p99_ms"] / b["p99_ms"] for a, b in zip(reps, ref_reps, strict=True)), 3)
    reference["p50_ratio"] = round(statistics.median(
        a["p50_ms"] / b["p50_ms"] for a, b in zip(reps, ref_reps, strict=True)), 3)
    reference["profile"] = profile
    out["reference"] = reference
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


def middle(reps: list[dict]) -> dict:
    """The repetition of median rate (whose wait events stand for the phase)."""
    return sorted(reps, key=lambda r: r["events_per_s"])[len(reps) // 2]


PROFILE_DELIVERIES = 400  # half without the profiler, half with it


def profile_one(url: str, fake, target: str, pairs: list[tuple[str, str]], warm: int) -> dict:
    """The app or the reference (target) in one gunicorn worker under cProfile (bench/profiled.py),
    one client: `warm` deliveries not counted, then the others; the worker's summary."""
    web = Gunicorn(url, fake.url, 1, wsgi="bench.profiled:application", BENCH_PROFILE_TARGET=target)
    try:
        web.wait_ready()
        from dev.stripe_fake import sign

        events = [event_for(cs) for _, cs in pairs]
        half = warm + (len(events) - warm) // 2
        out = {}
        # warm-up (not counted), then half the deliveries without the profiler, half with it; each
        # GET /__bench_profile answers the chunk before and sets the mode of the next (?off: unprofiled)
        for chunk, mode in ((events[:warm], "?off"), (events[warm:half], "?off"), (events[half:], "")):
            before = get_json(web.port, "/__bench_profile" + mode)
            if chunk is not events[:warm] and mode == "":
                out["plain"] = before
            got = post_all(web.port, chunk, 1, sign)
            if got["bad"]:
                raise WrongResult(f"profiled {target}: {len(got['bad'])} deliveries not answered 200, first: "
                                  f"{got['bad'][0]}")
        out.update(get_json(web.port, "/__bench_profile?off"))
        return out
    finally:
        web.stop()


def get_json(port: int, path: str) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        return json.loads(c.getresponse().read())
    finally:
        c.close()


def profile_both(url: str, fake, sizes, n: int = PROFILE_DELIVERIES, warm: int = 50, log=print) -> dict:
    """Where the app's extra time per delivery goes, against the reference: both profiled alike
    (one worker, one client, cProfile per request), their parts side by side."""
    with psycopg.connect(url, autocommit=True) as conn:
        app_pairs = prepare_purchases(conn, fake, n + warm, sizes.customers)
    app = profile_one(url, fake, "app", app_pairs, warm)
    ref = profile_one(url, fake, "reference", prepare_reference_events(fake, n + warm), warm)
    from bench.profiled import TOTAL

    parts = []
    named = [k for k in app["parts_ms"] if k != TOTAL]
    for part in [TOTAL, *named]:
        a, r = app["parts_ms"].get(part, 0.0), ref["parts_ms"].get(part, 0.0)
        parts.append({"part": part, "app_ms": a, "reference_ms": r, "extra_ms": round(a - r, 4)})
    top_level = [k for k in named if not k.startswith(" ")]
    rest_a = app["parts_ms"][TOTAL] - sum(app["parts_ms"][k] for k in top_level)
    rest_r = ref["parts_ms"][TOTAL] - sum(ref["parts_ms"][k] for k in top_level)
    parts.append({"part": "the rest (framework: routing, request and response objects, checks)",
                  "app_ms": round(rest_a, 4), "reference_ms": round(rest_r, 4), "extra_ms": round(rest_a - rest_r, 4)})
    log(f"  profile: app {app['parts_ms'][TOTAL]:.2f} ms, reference {ref['parts_ms'][TOTAL]:.2f} ms per delivery "
        f"(without the profiler {app['plain']['wall_ms']:.2f} and {ref['plain']['wall_ms']:.2f} ms)")
    return {"requests": app["requests"], "parts": parts,
            "unprofiled_wall_ms": {"app": app["plain"]["wall_ms"], "reference": ref["plain"]["wall_ms"],
                                   "requests": app["plain"]["requests"]}, "app_top_own_time": app["top_own_time"][:8],
            "reference_top_own_time": ref["top_own_time"][:8]}


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
