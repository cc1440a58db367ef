"""Failover under load, measured (`make ha-failover-test`, `python -m bench.failover`).

A throwaway pg_auto_failover setup (dev/ha.py: monitor, primary, synchronous standby),
migrated and seeded; the app under gunicorn with a multi-host DATABASE_URL
(target_session_attrs=read-write) and DATABASE_READ_URL (prefer-standby); the real
`stripe` library against the local Stripe fake. Then:

* `senders` threads deliver genuinely signed paid `checkout.session.completed` events to
  /api/stripe/webhook, one per pending purchase, plus Stripe's duplicates (the same event
  again) and a second event for some sessions (`async_payment_succeeded`), each retried
  like Stripe does until answered 2xx (any other status or a connection error: retry with
  exponential backoff);
* each request the webhook creates is raced by 3 mechanics POSTing accept concurrently,
  each retrying on 5xx or a connection error until a definite answer;
* until `kill_after` deliveries are answered 2xx: the standby's visibility lag of each new
  session (how old a read from the standby can be) and the replication lag are sampled;
* then the primary node is lost (SIGKILL of its keeper and postmaster); a probe measures
  the time until a read-write session is accepted again, the senders the time until the
  next fulfilled webhook; once the standby is primary the lost node is started again and
  the time until replication is synchronous again is measured.

Afterwards, on the new primary: every delivery answered 2xx is there (0 lost), exactly one
session and one request per Checkout Session (0 duplicates), at most one 2xx winner per
request and the 2xx winner is the recorded mechanic. A violation raises WrongResult.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

from bench import EXIT_WRONG_RESULT, WrongResult
from bench.gunicorn import GunicornApp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dev.ha import Cluster  # noqa: E402
from dev.stripe_fake import StripeFake, sign  # noqa: E402
from tools.migrate import migrate  # noqa: E402

WEBHOOK_SECRET = "whsec_failover_" + "0" * 24
JWT_SECRET = "failover-jwt-secret-" + "x" * 32
CUSTOMERS = [f"33333333-3333-4333-8333-00000000000{i}" for i in range(1, 5)]
# Available mechanics of active workshops or independent (demo data): all eligible for broadcast.
MECHANICS = ["22222222-2222-4222-8222-000000000001", "22222222-2222-4222-8222-000000000002",
             "22222222-2222-4222-8222-000000000004", "22222222-2222-4222-8222-000000000008",
             "22222222-2222-4222-8222-000000000009"]
PLANS = ("video15", "video30", "diag45")


def pctl(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, round(q * (len(v) - 1)))]


class App(GunicornApp):
    """gunicorn serving the app against the HA setup."""

    def __init__(self, write_url: str, read_url: str, stripe_api: str, workers: int):
        super().__init__(dict(DATABASE_URL=write_url, DATABASE_READ_URL=read_url, STRIPE_SECRET_KEY="sk_test_failover",
                              STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=stripe_api, JWT_SECRET=JWT_SECRET,
                              POOL_TIMEOUT="3", POOL_RECONNECT_TIMEOUT="2"),
                         workers, ("--timeout", "60"), log_prefix="ssr-failover-gunicorn-")


def post(port: int, path: str, body: bytes, headers: dict, timeout: float = 30) -> tuple[int, dict | None]:
    """One POST on a fresh connection: (status, JSON body); status 0 for a connection error."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        raw = r.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        return r.status, data
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        c.close()


def backoff(attempt: int) -> float:
    """Stripe retries with exponential backoff; here in fractions of a second, capped at 2 s."""
    return min(2.0, 0.1 * 2 ** attempt) * random.uniform(0.5, 1.0)


def prepare(url: str, fake: StripeFake, n: int) -> list[dict]:
    """n pending purchases with paid Checkout Sessions in the fake."""
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(n):
            # the purchase acts for its customer: identified as the app does (app.customer_id)
            conn.execute("SELECT set_config('app.customer_id', %s, FALSE)", (CUSTOMERS[i % len(CUSTOMERS)],))
            pid, amount, currency = conn.execute(
                "SELECT id, amount_minor, currency FROM create_checkout_purchase(%s, %s, NULL, 'broadcast')",
                (CUSTOMERS[i % len(CUSTOMERS)], PLANS[i % len(PLANS)]),
            ).fetchone()
            s = fake.add_session(client_reference_id=str(pid), amount_total=amount, currency=currency)
            conn.execute("SELECT attach_checkout_session(%s, %s)", (pid, s["id"]))
            out.append({"purchase": str(pid), "cs": s["id"]})
    return out


def event(cs: str, event_type: str = "checkout.session.completed") -> tuple[str, bytes]:
    evt = "evt_failover_" + uuid.uuid4().hex
    return evt, json.dumps({
        "id": evt, "object": "event", "type": event_type, "livemode": False,
        "api_version": "2025-01-27.acacia", "created": int(time.time()),
        "data": {"object": {"id": cs, "object": "checkout.session"}},
    }).encode()


def token(sub: str) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": sub, "role": "mechanic", "iat": now, "exp": now + 3600}, JWT_SECRET, algorithm="HS256")


class Run:
    def __init__(self, cluster: Cluster, app: App, deliveries: list[tuple[str, str, bytes]], senders: int,
                 rate: float, kill_after: int, rejoin: bool, staleness_url: str, deadline_s: float):
        self.c, self.app = cluster, app
        self.deliveries = deliveries
        self.senders, self.rate, self.kill_after, self.rejoin = senders, rate, kill_after, rejoin
        self.staleness_url = staleness_url
        self.deadline = time.monotonic() + deadline_s
        self.lock = threading.Lock()
        self.queue: queue.Queue = queue.Queue()
        for d in deliveries:
            self.queue.put(d)
        self.acked: list[dict] = []  # every delivery answered 2xx
        self.non2xx: dict[int, int] = {}
        self.t_kill: float | None = None
        self.killed_event = threading.Event()
        self.races: list[dict] = []
        self.race_q: queue.Queue = queue.Queue()
        # Races held back and started together just before the kill, so that accepts are in
        # flight when the primary dies and retried through the failover.
        self.hold = max(1, kill_after // 4)
        self.held: list[str] = []
        self.accept_retries = 0  # accept answers that were a 5xx or a connection error
        self.visibility_ms: list[float] = []
        self.lag_samples: list[tuple[float, float, float]] = []  # (replay_lag_ms, flush_lag_ms, bytes)
        self.stale_q: queue.Queue = queue.Queue()
        self.tokens = {m: token(m) for m in MECHANICS}
        self.next_send = time.monotonic()

    # --- webhook senders --------------------------------------------------------------

    def pace(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.next_send = max(self.next_send + 1.0 / self.rate, now)
            wait = self.next_send - now
        if wait > 0:
            time.sleep(wait)

    def sender(self) -> None:
        while True:
            try:
                evt, cs, body = self.queue.get_nowait()
            except queue.Empty:
                return
            self.pace()
            attempt = 0
            while True:
                if time.monotonic() > self.deadline:
                    raise WrongResult(f"webhook {evt} not answered 2xx before the deadline")
                started = time.monotonic()
                headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, WEBHOOK_SECRET)}
                status, data = post(self.app.port, "/api/stripe/webhook", body, headers)
                done = time.monotonic()
                if 200 <= status < 300:
                    rec = {"event": evt, "cs": cs, "started": started, "answered": done, "attempts": attempt + 1,
                           "outcome": (data or {}).get("outcome"), "request": (data or {}).get("session_request_id")}
                    with self.lock:
                        self.acked.append(rec)
                        n = len(self.acked)
                    if rec["outcome"] == "fulfilled" and rec["request"]:
                        with self.lock:
                            hold = self.t_kill is None and len(self.held) < self.hold
                            if hold:
                                self.held.append(rec["request"])
                        if not hold:
                            self.race_q.put(rec["request"])
                        if not self.killed_event.is_set():
                            self.stale_q.put((cs, done))
                    if n >= self.kill_after and self.t_kill is None:
                        self.kill()
                    break
                with self.lock:
                    self.non2xx[status] = self.non2xx.get(status, 0) + 1
                time.sleep(backoff(attempt))
                attempt += 1

    def kill(self) -> None:
        with self.lock:
            if self.t_kill is not None:
                return
            self.victim = self.c.primary()
            for request_id in self.held:
                self.race_q.put(request_id)
            time.sleep(0.02)  # the held accepts are on their way
            self.t_kill = self.c.kill(self.victim)
        self.killed_event.set()

    # --- accept races -----------------------------------------------------------------

    def accept(self, request_id: str, mechanic: str, out: dict, start: threading.Barrier) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[mechanic]}"}
        start.wait()
        attempt = 0
        while True:
            status, _ = post(self.app.port, f"/api/session-requests/{request_id}/accept", b"", headers)
            if status == 0 or status >= 500:
                with self.lock:
                    self.accept_retries += 1
                if time.monotonic() > self.deadline:
                    out[mechanic] = status
                    return
                time.sleep(backoff(attempt))
                attempt += 1
                continue
            out[mechanic] = status
            return

    def racer(self) -> None:
        while True:
            request_id = self.race_q.get()
            if request_id is None:
                return
            mechanics = random.sample(MECHANICS, 3)
            out: dict[str, int] = {}
            barrier = threading.Barrier(len(mechanics))
            threads = [threading.Thread(target=self.accept, args=(request_id, m, out, barrier)) for m in mechanics]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with self.lock:
                self.races.append({"request": request_id, "answers": out})

    # --- staleness before the kill ----------------------------------------------------

    def staleness(self) -> None:
        """How long after its 2xx a new session becomes visible on the standby; replication lag."""
        standby = None
        primary = None
        while not self.killed_event.is_set():
            try:
                if standby is None:
                    standby = psycopg.connect(self.staleness_url, autocommit=True)
                    primary = psycopg.connect(self.c.url(), autocommit=True)
                try:
                    cs, answered = self.stale_q.get(timeout=0.05)
                except queue.Empty:
                    cs = None
                if cs is not None:
                    while not self.killed_event.is_set():
                        if standby.execute("SELECT 1 FROM sessions WHERE stripe_checkout_session_id = %s",
                                           (cs,)).fetchone():
                            self.visibility_ms.append(max(0.0, (time.monotonic() - answered) * 1000))
                            break
                        time.sleep(0.001)
                row = primary.execute(
                    "SELECT coalesce(extract(epoch FROM replay_lag) * 1000, 0), "
                    "coalesce(extract(epoch FROM flush_lag) * 1000, 0), "
                    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication "
                    "WHERE state = 'streaming' LIMIT 1").fetchone()
                if row:
                    self.lag_samples.append(tuple(float(x) for x in row))
            except psycopg.Error:
                break
        for c in (standby, primary):
            if c is not None:
                try:
                    c.close()
                except psycopg.Error:
                    pass

    # --- the failover itself ----------------------------------------------------------

    def watch_failover(self, out: dict) -> None:
        self.killed_event.wait()
        # First read-write session after the kill: what the app's pool can get.
        while True:
            try:
                with psycopg.connect(self.c.url(), autocommit=True) as conn:
                    conn.execute("SELECT txid_current()")
                    out["db_first_write_s"] = time.monotonic() - self.t_kill
                    out["new_primary_port"] = conn.info.port
                break
            except psycopg.Error:
                if time.monotonic() > self.deadline:
                    return
                time.sleep(0.05)
        self.c.wait_until(lambda: self.c.primary() not in (None, self.victim), 60, "the standby promoted")
        out["promoted"] = self.c.primary()
        if not self.rejoin:
            return
        t0 = time.monotonic()
        self.c.run_node(self.victim)
        self.c.wait_until(self.c.healthy, 120, "the lost node back as a synchronous standby")
        out["rejoin_s"] = time.monotonic() - t0
        out["sync_again_after_kill_s"] = time.monotonic() - self.t_kill
        out["rejoin_method"] = self.c.rejoin_method(self.victim)

    def go(self) -> dict:
        fail: dict = {}
        t0 = time.monotonic()
        watcher_out: dict = {}
        threads = [threading.Thread(target=self._guard, args=(self.sender, fail)) for _ in range(self.senders)]
        racers = [threading.Thread(target=self._guard, args=(self.racer, fail)) for _ in range(8)]
        extra = [threading.Thread(target=self._guard, args=(self.staleness, fail)),
                 threading.Thread(target=self._guard, args=(lambda: self.watch_failover(watcher_out), fail))]
        for t in threads + racers + extra:
            t.start()
        for t in threads:
            t.join()
        with self.lock:
            if self.t_kill is None:  # fewer than kill_after deliveries: race the held ones anyway
                for request_id in self.held:
                    self.race_q.put(request_id)
        for _ in racers:
            self.race_q.put(None)
        for t in racers:
            t.join()
        self.killed_event.set()  # in case fewer than kill_after deliveries were made
        for t in extra:
            t.join()
        if fail:
            raise fail["error"]
        return {"elapsed_s": time.monotonic() - t0, **watcher_out}

    @staticmethod
    def _guard(fn, fail: dict) -> None:
        try:
            fn()
        except BaseException as exc:
            fail.setdefault("error", exc)


def fulfill_load(cluster: Cluster, seconds: float = 10, clients: int = 8, scale: float = 0.01, log=print) -> dict:
    """fulfill_checkout at full speed (the benchmark's pgbench script, 8 clients) on the HA
    primary, with synchronous_commit on (a commit waits for the standby's flush) and, as the
    baselines of the same run, local (for the local flush only) and off (for no flush: what the
    benchmark's cluster does); replication lag and the age of what the standby shows, sampled
    every 50 ms meanwhile. In its own database, filled by the benchmark's generator."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from bench import generate, measure
    from bench import pgbench as pgb

    def with_db(url: str, db: str, **extra) -> str:
        params = conninfo_to_dict(url)
        params.update(dbname=db, **extra)
        return make_conninfo(**params)

    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS ssr_load")
        conn.execute("CREATE DATABASE ssr_load")
    url = with_db(cluster.url(), "ssr_load")
    migrate(url, out=open(os.devnull, "w"))
    generate.generate(url, scale, log=lambda *_: None)
    sizes = generate.Sizes.for_scale(scale)
    primary = next(n for n in ("node1", "node2") if n == cluster.primary())
    standby = next(n for n in ("node1", "node2") if n != primary)
    out = {}
    for mode in ("on", "local", "off"):
        samples: list[tuple[float, float, float, float]] = []
        stop = threading.Event()

        def sample(samples=samples, stop=stop):
            with psycopg.connect(cluster.node_url(primary, "ssr_load"), autocommit=True) as p, \
                    psycopg.connect(cluster.node_url(standby, "ssr_load"), autocommit=True) as s:
                while not stop.is_set():
                    row = p.execute(
                        "SELECT coalesce(extract(epoch FROM replay_lag) * 1000, 0), "
                        "coalesce(extract(epoch FROM flush_lag) * 1000, 0), "
                        "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                        "FROM pg_stat_replication WHERE state = 'streaming' LIMIT 1").fetchone()
                    age = s.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000"
                                    ).fetchone()[0]
                    if row and age is not None:
                        samples.append((*(float(x) for x in row), float(age)))
                    time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        tag = f"fo{mode}{uuid.uuid4().hex[:8]}"
        script = measure.FULFILL_SCRIPT.format(C=sizes.customers, W=sizes.workshops, tag=tag)
        sampler.start()
        time.sleep(0.2)
        samples.clear()  # lag while idle is not the point
        try:
            res = pgb.run(with_db(cluster.url(), "ssr_load", options=f"-c synchronous_commit={mode}"),
                          clients=clients, seconds=seconds, script=script, defines={"i": 0})
        finally:
            stop.set()
            sampler.join()
        measure.check_fulfilled(url, tag, res["transactions"])
        res["replay_lag_ms"] = {"p50": pctl([x[0] for x in samples], 0.5), "p99": pctl([x[0] for x in samples], 0.99),
                                "max": max((x[0] for x in samples), default=None)}
        res["flush_lag_ms_p50"] = pctl([x[1] for x in samples], 0.5)
        res["replay_bytes_behind_max"] = max((x[2] for x in samples), default=None)
        res["standby_data_age_ms"] = {"p50": pctl([x[3] for x in samples], 0.5),
                                      "p99": pctl([x[3] for x in samples], 0.99),
                                      "max": max((x[3] for x in samples), default=None)}
        res["samples"] = len(samples)
        out[f"synchronous_commit_{mode}"] = res
        log(f"failover: fulfill_checkout with synchronous_commit={mode}: {res['tps']} tps, p50 {res['p50_ms']} ms; "
            f"replay_lag p50 {res['replay_lag_ms']['p50']} ms, max {res['replay_lag_ms']['max']} ms")
    out["clients"], out["seconds"], out["sessions_in_database"] = clients, seconds, sizes.sessions
    return out


def verify(url: str, purchases: list[dict], run: Run) -> dict:
    """The invariants, read on the primary after the failover."""
    cs_ids = [p["cs"] for p in purchases]
    acked_events = sorted({a["event"] for a in run.acked})
    with psycopg.connect(url, autocommit=True) as conn:
        per_cs = {cs: (n_s, n_r) for cs, n_s, n_r in conn.execute(
            "SELECT s.stripe_checkout_session_id, count(DISTINCT s.id), count(r.id) "
            "FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id "
            "WHERE s.stripe_checkout_session_id = ANY(%s) GROUP BY 1", (cs_ids,)).fetchall()}
        recorded = {r[0] for r in conn.execute("SELECT id FROM stripe_events WHERE id = ANY(%s)",
                                               (acked_events,)).fetchall()}
        winners = {str(r): str(m) if m else None for r, m in conn.execute(
            "SELECT id, mechanic_id FROM session_requests WHERE id = ANY(%s::uuid[])",
            ([x["request"] for x in run.races],)).fetchall()}
    lost_events = [e for e in acked_events if e not in recorded]
    missing_sessions = [cs for cs in cs_ids if per_cs.get(cs, (0, 0))[0] == 0]
    duplicates = [cs for cs, (n_s, n_r) in per_cs.items() if n_s != 1 or n_r != 1]
    before_kill = [a for a in run.acked if run.t_kill is not None and a["answered"] < run.t_kill]
    lost_before_kill = [a for a in before_kill if a["event"] not in recorded]
    two_winners, wrong_winner, no_2xx_winner = [], [], 0
    for race in run.races:
        ok = [m for m, st in race["answers"].items() if 200 <= st < 300]
        if len(ok) > 1:
            two_winners.append(race)
        elif len(ok) == 1 and winners.get(race["request"]) != ok[0]:
            wrong_winner.append({**race, "recorded": winners.get(race["request"])})
        elif not ok:
            no_2xx_winner += 1
    return {
        "checkout_sessions": len(cs_ids),
        "deliveries_acked": len(run.acked),
        "acked_before_kill": len(before_kill),
        "lost_acked": len(lost_events),
        "lost_acked_before_kill": len(lost_before_kill),
        "missing_sessions": len(missing_sessions),
        "duplicates": len(duplicates),
        "fulfilled_answers": sum(1 for a in run.acked if a["outcome"] == "fulfilled"),
        "races": len(run.races),
        "two_2xx_winners": len(two_winners),
        "winner_not_recorded": len(wrong_winner),
        "races_without_2xx_winner": no_2xx_winner,
        "examples": {"lost": lost_events[:3], "missing": missing_sessions[:3], "duplicates": duplicates[:3],
                     "two_winners": two_winners[:2], "wrong_winner": wrong_winner[:2]},
    }


def run(events: int = 320, senders: int = 8, rate: float = 40.0, kill_after: int | None = None,
        workers: int = 4, rejoin: bool = True, ha_dir: str | None = None, load_seconds: float = 0,
        restart_check: bool = True, log=print) -> dict:
    """The whole experiment; returns the figures, raises WrongResult on a violated invariant."""
    kill_after = kill_after or max(1, events // 3)
    tmp = ha_dir or tempfile.mkdtemp(prefix="ssr-ha-failover-")
    os.chmod(tmp, 0o755)  # noqa: S103 - the postgres OS user must reach it
    cluster = Cluster(os.path.join(tmp, "ha"), db="ssr")
    fake = app = None
    t_setup = time.monotonic()
    try:
        write_url = cluster.up()
        setup_s = time.monotonic() - t_setup
        migrate(write_url, out=open(os.devnull, "w"))
        with psycopg.connect(write_url, autocommit=True) as conn:
            for f in sorted((ROOT / "db" / "seeds").glob("*.sql")):
                conn.execute(f.read_text(encoding="utf-8").encode())
        migrated_s = time.monotonic() - t_setup - setup_s
        log(f"failover: monitor + primary + synchronous standby up in {setup_s:.1f} s, "
            f"migrated and seeded in {migrated_s:.1f} s")
        sync_standby = cluster.sync_standby()
        if not sync_standby:
            raise WrongResult("replication is not synchronous before the kill")
        load = fulfill_load(cluster, load_seconds, log=log) if load_seconds else None
        fake = StripeFake(api_keys=("sk_test_failover",))  # the key the app is given above
        fake.server.RequestHandlerClass.disable_nagle_algorithm = True
        fake.start()
        purchases = prepare(write_url, fake, events)
        deliveries = []
        for i, p in enumerate(purchases):
            evt, body = event(p["cs"])
            deliveries.append((evt, p["cs"], body))
            if i % 10 == 0:  # Stripe delivers the same event again
                deliveries.append((evt, p["cs"], body))
            if i % 20 == 5:  # and a second fulfilling event for the same session
                evt2, body2 = event(p["cs"], "checkout.session.async_payment_succeeded")
                deliveries.append((evt2, p["cs"], body2))
        random.shuffle(deliveries)
        standby = next(n for n in ("node1", "node2") if n != cluster.primary())
        app = App(write_url, cluster.url(read=True), fake.url, workers)
        app.wait_ready()
        ready_s = time.monotonic() - t_setup
        with psycopg.connect(write_url, autocommit=True) as conn:
            settings = dict(conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('synchronous_commit', 'synchronous_standby_names', 'fsync', 'full_page_writes')").fetchall())
            overrides = conn.execute(
                "SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) AS c "
                "WHERE c LIKE 'synchronous_commit=%%'").fetchone()[0]
        if settings["synchronous_commit"] != "on" or overrides or not settings["synchronous_standby_names"]:
            raise WrongResult(f"commits would not wait for the standby: {settings}, {overrides} overrides")
        log(f"failover: {len(deliveries)} deliveries of {events} paid events from {senders} senders "
            f"at ~{rate:.0f}/s; the primary is killed after {kill_after} answered 2xx")
        r = Run(cluster, app, deliveries, senders, rate, kill_after, rejoin, cluster.node_url(standby), 240)
        timing = r.go()
        if r.t_kill is None:
            raise WrongResult("the primary was never killed")
        after = [a for a in r.acked if a["started"] > r.t_kill and a["outcome"] == "fulfilled"]
        first_app = min((a["answered"] for a in after), default=None)
        result = verify(write_url, purchases, r)
        result.update(
            setup_s=round(setup_s, 1), migrate_seed_s=round(migrated_s, 1), ready_s=round(ready_s, 1),
            deliveries=len(deliveries), events=events, senders=senders,
            killed=r.victim, sync_standby_before_kill=sync_standby, settings_before_kill=settings,
            db_first_write_after_kill_s=round(timing.get("db_first_write_s", -1), 2),
            app_first_fulfilled_after_kill_s=round(first_app - r.t_kill, 2) if first_app else None,
            rejoin_s=round(timing["rejoin_s"], 1) if "rejoin_s" in timing else None,
            sync_again_after_kill_s=round(timing["sync_again_after_kill_s"], 1)
            if "sync_again_after_kill_s" in timing else None,
            promoted=timing.get("promoted"), rejoin_method=timing.get("rejoin_method"), elapsed_s=round(timing["elapsed_s"], 1),
            non_2xx_answers={str(k): v for k, v in sorted(r.non2xx.items())},
            accepts_retried=r.accept_retries, races_started_at_the_kill=len(r.held),
            max_attempts=max((a["attempts"] for a in r.acked), default=0),
            standby_visibility_ms={"n": len(r.visibility_ms),
                                   "p50": pctl(r.visibility_ms, 0.5), "p99": pctl(r.visibility_ms, 0.99),
                                   "max": max(r.visibility_ms, default=None)},
            replication_lag={"samples": len(r.lag_samples),
                             "replay_lag_ms_p50": pctl([s[0] for s in r.lag_samples], 0.5),
                             "replay_lag_ms_max": max((s[0] for s in r.lag_samples), default=None),
                             "flush_lag_ms_p50": pctl([s[1] for s in r.lag_samples], 0.5),
                             "replay_bytes_behind_max": max((s[2] for s in r.lag_samples), default=None)},
            steady_deliveries_per_s=round(r.kill_after / (r.t_kill - min(a["started"] for a in r.acked)), 1)
            if r.acked else None,
        )
        if load:
            result["fulfill_load"] = load
        result["hba_methods"] = cluster.hba_methods()  # after the failover and the rejoin: never trust
        bad = {k: result[k] for k in ("lost_acked", "lost_acked_before_kill", "missing_sessions", "duplicates",
                                      "two_2xx_winners", "winner_not_recorded") if result[k]}
        if bad:
            raise WrongResult(f"failover: {bad}; examples: {result['examples']}; app log: {app.log_tail(3000)}")
        if result["db_first_write_after_kill_s"] < 0:
            raise WrongResult("failover: no write succeeded after the kill")
        if restart_check:
            # make ha-stop then make ha: the same primary, no failover on the way.
            app.stop()
            app = None
            before = cluster.primary()
            cluster.stop()
            cluster.up()
            after = cluster.primary()
            result["restart_keeps_primary"] = before == after
            if before != after:
                events = cluster.autoctl("show", "events", "--pgdata", cluster.data("monitor"), "--count", "16").stdout
                raise WrongResult(f"failover: stopping and starting the setup moved the primary {before} -> {after}:\n"
                                  f"{events}")
        return result
    finally:
        if app is not None:
            app.stop()
        if fake is not None:
            fake.stop()
        cluster.destroy()
        if ha_dir is None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def summary(res: dict) -> str:
    vis, lag = res["standby_visibility_ms"], res["replication_lag"]
    return "\n".join([
        f"paid events {res['events']}, deliveries {res['deliveries']} from {res['senders']} senders "
        f"({res['deliveries_acked']} answered 2xx, {res['acked_before_kill']} before the kill); "
        f"answers other than 2xx, retried: {res['non_2xx_answers']} (max {res['max_attempts']} attempts)",
        f"killed {res['killed']} (SIGKILL of keeper and postmaster); {res['promoted']} promoted",
        f"kill -> first read-write session: {res['db_first_write_after_kill_s']} s; "
        f"kill -> first fulfilled webhook: {res['app_first_fulfilled_after_kill_s']} s",
        f"lost node back as synchronous standby ({res['rejoin_method']}): {res['rejoin_s']} s after its restart "
        f"({res['sync_again_after_kill_s']} s after the kill)",
        f"lost after 2xx: {res['lost_acked']} (of those answered before the kill: "
        f"{res['lost_acked_before_kill']}); missing sessions {res['missing_sessions']}; "
        f"duplicates {res['duplicates']}",
        f"accept races {res['races']} (3 mechanics each; {res['races_started_at_the_kill']} started as the primary "
        f"was killed, {res['accepts_retried']} accept answers were 5xx or lost and retried): two 2xx winners {res['two_2xx_winners']}, "
        f"2xx winner not the recorded mechanic {res['winner_not_recorded']}, "
        f"no 2xx winner (answer lost, then 409) {res['races_without_2xx_winner']}",
        f"steady load before the kill: {res['steady_deliveries_per_s']} deliveries/s; a new session visible "
        f"on the standby after its 2xx: p50 {vis['p50']} ms, p99 {vis['p99']} ms, max {vis['max']} ms "
        f"({vis['n']} sessions); replay_lag p50 {lag['replay_lag_ms_p50']} ms, max {lag['replay_lag_ms_max']} ms, "
        f"flush_lag p50 {lag['flush_lag_ms_p50']} ms, at most {lag['replay_bytes_behind_max']} bytes "
        f"not yet replayed ({lag['samples']} samples)",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=320)
    ap.add_argument("--senders", type=int, default=8)
    ap.add_argument("--rate", type=float, default=40.0, help="deliveries per second, all senders together")
    ap.add_argument("--kill-after", type=int, default=None, help="deliveries answered 2xx before the kill")
    ap.add_argument("--no-rejoin", action="store_true")
    ap.add_argument("--load-seconds", type=float, default=10,
                    help="pgbench fulfill_checkout on the HA primary first, per synchronous_commit mode (0: skip)")
    ap.add_argument("--json", default=str(ROOT / "bench" / "failover_results.json"))
    a = ap.parse_args(argv)
    try:
        res = run(a.events, a.senders, a.rate, a.kill_after, rejoin=not a.no_rejoin, load_seconds=a.load_seconds)
    except WrongResult as exc:
        print(f"failover: WRONG RESULT: {exc}", file=sys.stderr)
        return EXIT_WRONG_RESULT
    print(summary(res))
    for mode, f in (res.get("fulfill_load") or {}).items():
        if mode.startswith("synchronous_commit"):
            print(f"{mode}: fulfill_checkout {f['tps']} tps, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms; replay_lag "
                  f"p50 {f['replay_lag_ms']['p50']} ms, p99 {f['replay_lag_ms']['p99']} ms, max "
                  f"{f['replay_lag_ms']['max']} ms; standby data age p50 {f['standby_data_age_ms']['p50']} ms, "
                  f"max {f['standby_data_age_ms']['max']} ms; at most {f['replay_bytes_behind_max']} bytes behind")
    res.pop("examples", None)
    res["when"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    Path(a.json).write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results: {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
