"""How long do the migrations stall a live marketplace? (`make bench-migrations`)

Builds the marketplace as it was before smart routing (migration 0001 only) holding
`--sessions` sessions, each with its session request (accepted) and most with a review,
on a durable cluster; then, while 4 writer threads and 1 reader thread run app-like
transactions, applies every other migration with tools/migrate.py (default settings) and
reports the longest write stall, deadlocks and aborted transactions. A second scenario
opens a reader transaction on sessions and session_requests and keeps it open 15 s while
the migrations start: the runner must wait and retry under its short lock_timeout instead
of queueing the writers behind it.

    .venv/bin/python -m bench.migration_stall [--sessions 1000000] [--hold 15]

The writers are the application of that time (they know only the 0001 columns):
insert a session and its pending request, accept a pending request (by id), end a session.
The reader reads a customer's latest sessions and requests. The "stall" of a writer is
the duration of one of its transactions (normally a few ms); the longest over all writers
is the figure. tests/test_migrations_online.py runs the same workload on small data.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import migrate as mig  # noqa: E402

BASE_VERSION = "0001"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# The marketplace before smart routing: set-based, deterministic ids, no triggers to skip.
BASE_DATA = [
    """INSERT INTO plans (code, name, session_type, price_minor, currency, duration_minutes) VALUES
       ('video15', '15-minute video session', 'video', 2900, 'usd', 15),
       ('video30', '30-minute video session', 'video', 4900, 'usd', 30)""",
    """INSERT INTO organizations (id, name, contact_email, status)
       SELECT md5('mig-w-' || w)::uuid, 'Workshop ' || w, 'w' || w || '@example.com',
              CASE WHEN w % 20 = 0 THEN 'pending' ELSE 'active' END
       FROM generate_series(1, {W}) AS w""",
    """INSERT INTO mechanics (id, workshop_id, name, email, is_available)
       SELECT md5('mig-m-' || j)::uuid,
              CASE WHEN j % 7 = 0 THEN NULL ELSE md5('mig-w-' || (1 + j % {W}))::uuid END,
              'Mechanic ' || j, 'm' || j || '@example.com', j % 3 = 0
       FROM generate_series(1, {M}) AS j""",
    """INSERT INTO customers (id, email, name)
       SELECT md5('mig-c-' || c)::uuid, 'c' || c || '@example.com', 'Customer ' || c
       FROM generate_series(1, {C}) AS c""",
    """INSERT INTO sessions (id, customer_id, mechanic_id, plan_code, stripe_checkout_session_id,
                             amount_total_minor, currency, status, created_at, started_at, ended_at)
       SELECT md5('mig-s-' || i)::uuid, md5('mig-c-' || (1 + i % {C}))::uuid, md5('mig-m-' || (1 + i % {M}))::uuid,
              'video15', 'cs_mig_' || i, 2900, 'usd', 'completed', t, t + interval '1 minute', t + interval '16 minutes'
       FROM generate_series({lo}, {hi}) AS i,
            LATERAL (SELECT now() - make_interval(secs => ({S} - i) * 31536000.0 / {S}) AS t) AS tt""",
    """INSERT INTO session_requests (id, session_id, customer_id, plan_code, status, mechanic_id,
                                     created_at, accepted_at)
       SELECT md5('mig-r-' || i)::uuid, md5('mig-s-' || i)::uuid, md5('mig-c-' || (1 + i % {C}))::uuid,
              'video15', 'accepted', md5('mig-m-' || (1 + i % {M}))::uuid, t, t + interval '1 minute'
       FROM generate_series({lo}, {hi}) AS i,
            LATERAL (SELECT now() - make_interval(secs => ({S} - i) * 31536000.0 / {S}) AS t) AS tt""",
    """INSERT INTO reviews (id, session_id, customer_id, mechanic_id, rating)
       SELECT md5('mig-v-' || i)::uuid, md5('mig-s-' || i)::uuid, md5('mig-c-' || (1 + i % {C}))::uuid,
              md5('mig-m-' || (1 + i % {M}))::uuid, 1 + i % 5
       FROM generate_series({lo}, {hi}) AS i WHERE i % 4 <> 0""",
]
CHUNKED = (4, 5, 6)  # sessions, requests, reviews: in chunks


@dataclass
class Sizes:
    sessions: int

    def params(self) -> dict:
        s = max(self.sessions, 10)
        return {"S": s, "W": max(2, s // 500), "M": max(10, s // 50), "C": max(10, s // 5)}


def build_base(url: str, sessions: int, say=log) -> dict:
    """Migration 0001 and the data; returns the row counts."""
    mig.migrate(url, target=BASE_VERSION, say=say)
    p = Sizes(sessions).params()
    chunk = 100_000
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("SET session_replication_role = replica")  # consistent by construction: skip FK checks
        c.execute("SET synchronous_commit = off")  # loading only; the measured run is durable
        for n, stmt in enumerate(BASE_DATA):
            if n in CHUNKED:
                for lo in range(1, p["S"] + 1, chunk):
                    c.execute(stmt.format(**p, lo=lo, hi=min(lo + chunk - 1, p["S"])).encode())
                say(f"base data: statement {n + 1}/{len(BASE_DATA)} done")
            else:
                c.execute(stmt.format(**p).encode())
        c.execute("RESET session_replication_role")
        c.execute("VACUUM ANALYZE")
        return dict(
            c.execute(
                "SELECT 'sessions', count(*) FROM sessions UNION ALL SELECT 'session_requests', count(*) "
                "FROM session_requests UNION ALL SELECT 'reviews', count(*) FROM reviews UNION ALL "
                "SELECT 'mechanics', count(*) FROM mechanics UNION ALL SELECT 'organizations', count(*) FROM organizations"
            ).fetchall()
        )


@dataclass
class Figures:
    """What the app saw while the migrations ran."""

    write_ms: list[float] = field(default_factory=list)
    read_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float) -> None:
        with self.lock:
            (self.write_ms if kind == "write" else self.read_ms).append(ms)

    def error(self, exc: Exception) -> None:
        code = getattr(exc, "sqlstate", None) or type(exc).__name__
        with self.lock:
            self.errors[code] = self.errors.get(code, 0) + 1
            self.examples.setdefault(code, str(exc).strip().splitlines()[0][:200])

    def summary(self) -> dict:
        def pct(xs, q):
            return round(statistics.quantiles(xs, n=1000)[int(q * 1000) - 1], 1) if len(xs) > 10 else None

        w, r = sorted(self.write_ms), sorted(self.read_ms)
        return {
            "write_transactions": len(w),
            "longest_write_stall_ms": round(max(w), 1) if w else None,
            "write_p50_ms": pct(w, 0.5),
            "write_p99_ms": pct(w, 0.99),
            "read_transactions": len(r),
            "longest_read_ms": round(max(r), 1) if r else None,
            "deadlocks": self.errors.get("40P01", 0),
            "aborted_transactions": sum(self.errors.values()),
            "errors": dict(self.errors),
            "error_examples": dict(self.examples),
        }


class Workload:
    """4 writers and 1 reader doing what the pre-routing app does, until stopped."""

    def __init__(self, url: str, writers: int = 4, readers: int = 1, seed: int = 1):
        self.url, self.n_writers, self.n_readers = url, writers, readers
        self.stop = threading.Event()
        self.figures = Figures()
        self.threads: list[threading.Thread] = []
        self.rng = random.Random(seed)
        self.pending: deque = deque()  # (request id, session id) created by the writers
        self.live: deque = deque()  # session ids accepted
        with psycopg.connect(url) as c:
            self.customers = [r[0] for r in c.execute("SELECT id FROM customers ORDER BY id LIMIT 500")]
            self.mechanics = [r[0] for r in c.execute("SELECT id FROM mechanics ORDER BY id LIMIT 500")]

    def start(self) -> None:
        for i in range(self.n_writers):
            self.threads.append(threading.Thread(target=self._writer, args=(i,), daemon=True))
        for i in range(self.n_readers):
            self.threads.append(threading.Thread(target=self._reader, args=(i,), daemon=True))
        for t in self.threads:
            t.start()

    def finish(self) -> dict:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        return self.figures.summary()

    def _timed(self, conn, kind: str, fn) -> None:
        """One transaction; what fn returns (a callable) runs after the commit only."""
        t0 = time.perf_counter()
        try:
            with conn.transaction():
                after = fn(conn)
        except psycopg.Error as exc:
            self.figures.error(exc)
            return
        self.figures.add(kind, (time.perf_counter() - t0) * 1000)
        if callable(after):
            after()

    def _writer(self, i: int) -> None:
        rng = random.Random(i)
        with psycopg.connect(self.url, autocommit=True) as conn:
            n = 0
            while not self.stop.is_set():
                n += 1
                step = n % 3
                if step == 1:
                    self._timed(conn, "write", lambda c: self._new_request(c, rng))
                elif step == 2:
                    self._timed(conn, "write", lambda c: self._accept(c, rng))
                else:
                    self._timed(conn, "write", lambda c: self._close_one(c, rng))

    def _new_request(self, c, rng) -> None:
        cust = rng.choice(self.customers)
        sid = uuid.uuid4()
        c.execute(
            "INSERT INTO sessions (id, customer_id, plan_code, stripe_checkout_session_id, amount_total_minor, currency) "
            "VALUES (%s, %s, 'video15', %s, 2900, 'usd')",
            (sid, cust, f"cs_live_{sid.hex}"),
        )
        rid = c.execute(
            "INSERT INTO session_requests (session_id, customer_id, plan_code) VALUES (%s, %s, 'video15') RETURNING id",
            (sid, cust),
        ).fetchone()[0]
        return lambda: self.pending.append((rid, sid))  # offered to mechanics once committed

    def _accept(self, c, rng) -> None:
        """A mechanic accepts a pending request (by id, as the app's accept endpoint does)."""
        try:
            rid, sid = self.pending.popleft()
        except IndexError:
            return None
        mech = rng.choice(self.mechanics)
        c.execute(
            "UPDATE session_requests SET status = 'accepted', mechanic_id = %s, accepted_at = clock_timestamp() "
            "WHERE id = %s AND status = 'pending'",
            (mech, rid),
        )
        c.execute("UPDATE sessions SET mechanic_id = %s, status = 'live', started_at = clock_timestamp() WHERE id = %s",
                  (mech, sid))
        return lambda: self.live.append(sid)

    def _close_one(self, c, rng) -> None:
        """The call ends."""
        try:
            sid = self.live.popleft()
        except IndexError:
            return None
        c.execute("UPDATE sessions SET status = 'completed', ended_at = clock_timestamp() WHERE id = %s", (sid,))
        return None

    def _reader(self, i: int) -> None:
        rng = random.Random(100 + i)
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                cust = rng.choice(self.customers)
                self._timed(conn, "read", lambda c, cust=cust: (
                    c.execute("SELECT id, status, created_at FROM sessions WHERE customer_id = %s "
                              "ORDER BY created_at DESC LIMIT 10", (cust,)).fetchall(),
                    c.execute("SELECT id, status, created_at FROM session_requests WHERE customer_id = %s "
                              "ORDER BY created_at DESC LIMIT 10", (cust,)).fetchall(),
                ))


def hold_reader(url: str, seconds: float, started: threading.Event, done: threading.Event, errors: list) -> None:
    """An analytics-like reader: one transaction reading sessions and requests, open `seconds`."""
    try:
        with psycopg.connect(url) as c:  # not autocommit: the transaction stays open
            c.execute("SELECT count(*) FROM sessions WHERE created_at > now() - interval '30 days'").fetchone()
            c.execute("SELECT count(*) FROM session_requests WHERE status = 'pending'").fetchone()
            started.set()
            done.wait(seconds)
            c.commit()
    except psycopg.Error as exc:  # pragma: no cover - reported as an aborted transaction
        errors.append(exc)
        started.set()


def run_scenario(
    url: str, hold: float = 0.0, warmup: float = 2.0, say=log, policy=None, apply=None,
    release_after_retries: int | None = None,
) -> dict:
    """Writers + reader on a database at the base version; apply every migration; figures.

    `hold`: seconds a reader transaction stays open while the migrations start (at most that
    long: with `release_after_retries`, it ends once the runner has retried that many times).
    `apply(url, say)`: another way to apply them (the runner of an earlier commit)."""
    messages: list[str] = []
    release = threading.Event()

    def note(msg: str) -> None:
        messages.append(msg)
        if release_after_retries and sum("lock timeout" in m for m in messages) >= release_after_retries:
            release.set()
        say(f"  migrate: {msg}")

    work = Workload(url)
    work.start()
    time.sleep(warmup)  # the workload's own baseline before the migration starts
    before = work.figures.summary()
    holder = None
    hold_errors: list = []
    if hold:
        started = threading.Event()
        holder = threading.Thread(target=hold_reader, args=(url, hold, started, release, hold_errors), daemon=True)
        holder.start()
        started.wait(30)
    t0 = time.perf_counter()
    failed = None
    try:
        applied = (apply or (lambda u, s: mig.migrate(u, policy=policy, say=s)))(url, note)
    except Exception as exc:  # an earlier runner's failure is a figure too
        applied, failed = [], str(exc).splitlines()[0][:300]
    seconds = time.perf_counter() - t0
    if holder:
        holder.join(hold + 30)
    time.sleep(0.5)
    figures = work.finish()
    if hold_errors:
        figures["aborted_transactions"] += len(hold_errors)
        figures["errors"]["long_reader"] = len(hold_errors)
    stats_off = None
    if not failed:
        with psycopg.connect(url) as c:
            stats_off = c.execute("SELECT ssr_private.workshop_stats_rebuild()").fetchone()[0]
            c.rollback()
    return {
        "migration_failed": failed,
        "hold_reader_seconds": hold,
        "migration_seconds": round(seconds, 1),
        "files_applied": len(applied),
        "lock_retries": sum(1 for m in messages if "waiting" in m and "attempt" in m),
        "baseline_before_migration": {"write_p99_ms": before["write_p99_ms"],
                                      "longest_write_ms": before["longest_write_stall_ms"]},
        "workshop_stats_rows_off": stats_off,
        **figures,
    }


def runner_of(ref: str):
    """apply(url, say) with tools/migrate.py and db/ as they were at git `ref` (a baseline)."""
    import importlib.util
    import subprocess
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="ssr-runner-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "tools/migrate.py", "db"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    spec = importlib.util.spec_from_file_location("ssr_migrate_" + ref.replace("/", "_"), tmp / "tools" / "migrate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return lambda url, say: mod.migrate(url, db_dir=tmp / "db")


def durable_server(args) -> str:
    """BENCH_DATABASE_URL, or a dedicated cluster in .pg-bench-migrations made durable."""
    import os
    import subprocess

    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        tool = [sys.executable, str(ROOT / "dev" / "pgcluster.py")]
        subprocess.run([*tool, "ensure-plpython"], check=True)
        url = subprocess.run(
            [*tool, "start", str(ROOT / ".pg-bench-migrations"), "--db", "postgres"],
            check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]
        with psycopg.connect(url, autocommit=True) as c:
            for k, v in (("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on"),
                         ("max_wal_size", "'4GB'")):
                c.execute(f"ALTER SYSTEM SET {k} = {v}")
            c.execute("SELECT pg_reload_conf()")
    return url


def settings(url: str) -> dict:
    with psycopg.connect(url) as c:
        return dict(c.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', "
            "'full_page_writes', 'deadlock_timeout', 'shared_buffers', 'max_wal_size', 'server_version')"
        ).fetchall())


def main(argv: list[str] | None = None) -> int:
    from bench import server

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--hold", type=float, default=15.0, help="seconds the long reader stays open (scenario 2)")
    ap.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "migration_stall.json")
    ap.add_argument("--baseline-ref", help="also run both scenarios with the runner and migrations of this git ref")
    a = ap.parse_args(argv)
    srv = durable_server(a)
    sett = settings(srv)
    if sett.get("fsync") != "on" or sett.get("synchronous_commit") != "on":
        log(f"warning: the server is not durable ({sett}); figures would flatter the migrations")
    base = f"ssr_mig_base_{a.sessions}"
    with psycopg.connect(server.url_for(srv, "postgres"), autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (base,)).fetchone()
    base_url = server.ensure_database(srv, base)
    t0 = time.perf_counter()
    if exists:
        with psycopg.connect(base_url) as c:
            counts = {"sessions": c.execute("SELECT count(*) FROM sessions").fetchone()[0]}
        log(f"base: reusing {base} ({counts['sessions']:,} sessions)")
    else:
        log(f"base: building {base} with {a.sessions:,} sessions (migration 0001 only)")
        counts = build_base(base_url, a.sessions)
        log(f"base: built in {time.perf_counter() - t0:.0f} s: {counts}")
    results = {"settings": sett, "base": counts, "scenarios": []}
    runs = [("scenarios", None)]
    if a.baseline_ref:
        results["baseline_ref"] = a.baseline_ref
        results["baseline"] = []
        runs.insert(0, ("baseline", runner_of(a.baseline_ref)))
    for key, apply in runs:
        for name, hold in (("4 writers + 1 reader", 0.0), (f"the same + a reader open {a.hold:g} s", a.hold)):
            copy = base + "_run"
            server.drop_database(srv, copy)
            with psycopg.connect(server.url_for(srv, "postgres"), autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{base}" STRATEGY FILE_COPY')
            log(f"scenario: {name}" + (f" (baseline: {a.baseline_ref})" if apply else ""))
            r = run_scenario(server.url_for(srv, copy), hold=hold, apply=apply)
            r["scenario"] = name
            log(json.dumps(r, indent=1))
            results[key].append(r)
            server.drop_database(srv, copy)
    a.output.write_text(json.dumps(results, indent=1) + "\n")
    log(f"wrote {a.output}")
    bad = [r for r in results["scenarios"]
           if r["deadlocks"] or r["aborted_transactions"] or (r["longest_write_stall_ms"] or 0) >= 1000
           or r["workshop_stats_rows_off"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
