"""The steady state of the write path, and how it scales: the concurrency curve.

For each client count of the curve (1, 2, 4, 8, 16), in the same run on the same cluster:
pgbench tpcb-like (the server's own write ceiling at that concurrency), fulfill_checkout under
pgbench (the worker's relay beside it, from a drained outbox) and the accept race. Every measured
phase comes after a short unmeasured run of the same workload (its warm-up), and is observed:

* wait events: a sampler thread reads pg_stat_activity every 10 ms (from the `postgres`
  database, so its own queries count in no measured database) and counts, for each client
  backend of the measured database that is running a statement or inside a transaction, its
  wait event, or `CPU` when it waits on none (running, or runnable on a busy machine);
* WAL bytes (pg_current_wal_insert_lsn before and after, the whole cluster: the relay's
  writes count, as they do in production) and full-page images (pg_stat_wal) per transaction;
* commits per transaction: pg_stat_database.xact_commit of the measured database, before and
  after (after the backends' statistics are flushed), over the transactions the phase counted;
  and write transactions per transaction: how far the next transaction id moved (every
  transaction that wrote took one; the whole cluster, immediate, exact). A backend that stays
  connected flushes its statistics only when it exits or up to 10 s after it went idle, so for
  phases whose backends stay (the web servers' pools) only the second is given, and no FPI count.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench import pgbench as pgb
from bench.generate import Sizes
from bench.measure import (
    FULFILL_SCRIPT,
    RelayRunning,
    Settings,
    Skip,
    check_fulfilled,
    check_one_winner,
    lifted_capacity,
    make_pending_requests,
    race,
    racers,
    require,
)
from bench.server import url_for
from bench.stats import median_of, summarize

CURVE_CLIENTS = (1, 2, 4, 8, 16)
SAMPLE_INTERVAL = 0.01
TOP_WAITS = 5


def dbname_of(url: str) -> str:
    return conninfo_to_dict(url).get("dbname") or ""


# ---------------------------------------------------------------- observing a phase

class WaitSampler:
    """pg_stat_activity every `interval` seconds on its own connection to the `postgres` database
    of the same server: a Counter of wait events of the client backends of `dbname` that are in a
    statement or a transaction (`CPU` for those waiting on nothing). `only_app` keeps the backends
    whose application_name starts with it (e.g. the app's pool), None keeps every backend.
    `locks`: also count, for each waiting backend, the locks it has not been granted
    (locktype:relation:mode), as `lock_waits` in result()."""

    SQL = """
        SELECT coalesce(a.wait_event_type || ':' || a.wait_event, 'CPU'),
               CASE WHEN %s THEN (
                   SELECT string_agg(DISTINCT l.locktype || coalesce(':' || l.relation::regclass::text, '')
                                     || coalesce(':' || l.mode, ''), ',')
                   FROM pg_locks AS l WHERE l.pid = a.pid AND NOT l.granted) END
        FROM pg_stat_activity AS a
        WHERE a.datname = %s AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
          AND a.state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
          AND (%s::text IS NULL OR starts_with(a.application_name, %s::text))
    """

    def __init__(self, url: str, dbname: str | None = None, interval: float = SAMPLE_INTERVAL,
                 only_app: str | None = None, locks: bool = False):
        self.url = url_for(url, "postgres")
        self.dbname = dbname or dbname_of(url)
        self.interval, self.only_app, self.locks = interval, only_app, locks
        self.counts: Counter = Counter()
        self.lock_counts: Counter = Counter()
        self.ticks = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                args = (self.locks, self.dbname, self.only_app, self.only_app)
                while not self.stop.is_set():
                    for event, lock in conn.execute(self.SQL, args, prepare=True).fetchall():
                        self.counts[event] += 1
                        if lock:
                            self.lock_counts[lock] += 1
                    self.ticks += 1
                    self.stop.wait(self.interval)
        except Exception as exc:  # reported by result()
            self.errors.append(repr(exc))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def result(self, top: int = TOP_WAITS) -> dict:
        if self.errors:
            raise RuntimeError("wait sampler: " + self.errors[0])
        n = sum(self.counts.values())
        out = {
            "ticks": self.ticks,
            "samples": n,
            "top": [{"event": e, "samples": c, "share": round(c / n, 4)} for e, c in self.counts.most_common(top)],
        }
        if self.locks:
            out["lock_waits"] = dict(self.lock_counts.most_common(top))
        return out


def _counters(conn: psycopg.Connection, dbname: str) -> dict:
    row = conn.execute(
        "SELECT pg_current_wal_insert_lsn(), w.wal_records, w.wal_fpi, d.xact_commit, d.xact_rollback, "
        "pg_snapshot_xmax(pg_current_snapshot())::text::bigint "
        "FROM pg_stat_wal AS w, pg_stat_database AS d WHERE d.datname = %s", (dbname,)).fetchone()
    return {"lsn": row[0], "wal_records": row[1], "wal_fpi": row[2], "commits": row[3], "rollbacks": row[4],
            "next_xid": row[5]}


def _settled(conn: psycopg.Connection, dbname: str, timeout: float = 3.0) -> dict:
    """The counters once the statistics stopped moving: backends flush theirs at most once a
    second while busy, and when they exit or go idle (a finished phase's must be in)."""
    deadline = time.monotonic() + timeout
    last = _counters(conn, dbname)
    while time.monotonic() < deadline:
        time.sleep(0.4)
        now = _counters(conn, dbname)
        if (now["commits"], now["wal_fpi"]) == (last["commits"], last["wal_fpi"]):
            return now
        last = now
    return last


class Observed:
    """A measured phase: wait events sampled meanwhile, WAL and commits counted over it.
    `result(transactions)` gives them per transaction of the phase."""

    def __init__(self, url: str, only_app: str | None = None, interval: float = SAMPLE_INTERVAL,
                 backends_exit: bool = True):
        self.url, self.dbname, self.backends_exit = url, dbname_of(url), backends_exit
        self.sampler = WaitSampler(url, self.dbname, interval, only_app)

    def __enter__(self):
        self.conn = psycopg.connect(url_for(self.url, "postgres"), autocommit=True)
        self.before = _settled(self.conn, self.dbname)
        self.t0 = time.perf_counter()
        self.sampler.__enter__()
        return self

    def __exit__(self, *exc):
        self.sampler.__exit__(*exc)
        self.seconds = time.perf_counter() - self.t0
        try:
            if exc[0] is not None:
                self.after = None
            elif self.backends_exit:
                self.after = _settled(self.conn, self.dbname)
            else:
                self.after = _counters(self.conn, self.dbname)
            if self.after:
                self.after["wal_bytes"] = float(self.conn.execute(
                    "SELECT pg_wal_lsn_diff(%s, %s)", (self.after["lsn"], self.before["lsn"])).fetchone()[0])
        finally:
            self.conn.close()

    def result(self, transactions: int) -> dict:
        a, b, n = self.after, self.before, max(1, transactions)
        out = {
            "wal_bytes_per_tx": round(a["wal_bytes"] / n),
            "write_xacts_per_tx": round((a["next_xid"] - b["next_xid"]) / n, 3),
            "waits": self.sampler.result(),
        }
        if self.backends_exit:
            out.update(fpi_per_tx=round((a["wal_fpi"] - b["wal_fpi"]) / n, 3),
                       commits_per_tx=round((a["commits"] - b["commits"]) / n, 3),
                       rollbacks=a["rollbacks"] - b["rollbacks"])
        return out


# ---------------------------------------------------------------- the phases

def warmup_seconds(st: Settings) -> float:
    """The unmeasured run before every measured phase: a fifth of a phase, 1 to 3 s."""
    return st.extra.get("warmup_s") or max(1.0, min(3.0, st.seconds / 5))


def tpcb_phase(tpcb_url: str, clients: int, st: Settings) -> dict:
    pgb.run(tpcb_url, clients=clients, seconds=warmup_seconds(st), builtin="tpcb-like")
    with Observed(tpcb_url) as ob:
        res = pgb.run(tpcb_url, clients=clients, seconds=st.seconds, builtin="tpcb-like")
    res.update(ob.result(res["transactions"]))
    return res


def fulfill_script(sizes: Sizes, tag: str) -> str:
    return FULFILL_SCRIPT.format(C=sizes.customers, W=sizes.workshops, tag=tag)


def fulfill_phase(url: str, sizes: Sizes, clients: int, st: Settings) -> dict:
    """fulfill_checkout under pgbench, after a warm-up of the same script; the relay runs beside both,
    from a drained outbox (RelayRunning drains it first), every 100 ms as the worker does."""
    with RelayRunning(url) as relay:
        tag = f"benchwarm{uuid.uuid4().hex[:8]}"
        pgb.run(url, clients=clients, seconds=warmup_seconds(st), script=fulfill_script(sizes, tag), defines={"i": 0})
        sent_before = relay.sent
        tag = f"benchful{uuid.uuid4().hex[:8]}"
        with Observed(url) as ob:
            res = pgb.run(url, clients=clients, seconds=st.seconds, script=fulfill_script(sizes, tag), defines={"i": 0})
        res["notifications_sent"] = relay.sent - sent_before
    res["backlog_at_start"] = relay.drained
    check_fulfilled(url, tag, res["transactions"])
    res.update(ob.result(res["transactions"]))
    return res


def fulfill_curve(url: str, tpcb_url: str, sizes: Sizes, st: Settings, clients: tuple[int, ...] = CURVE_CLIENTS,
                  log=print) -> dict:
    """The curve: for each client count, st.reps pairs (tpcb-like, then fulfill_checkout), each phase
    warmed up and observed; the point's ratio is the median of its pairs' ratios (the machine drifts
    between phases of a run, not within a pair). Plus the one-client CPU of each transaction."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "ssr_private.fulfill_checkout", "ssr_private.create_session_request")
    if sizes.workshops < 18:
        raise Skip("needs at least 18 workshops (scale >= 0.009)")
    points: dict = {}
    for n in clients:
        pairs = []
        for rep in range(st.reps):
            t = tpcb_phase(tpcb_url, n, st)
            f = fulfill_phase(url, sizes, n, st)
            f["paired_tpcb_tps"] = t["tps"]
            f["ratio_to_tpcb"] = round(f["tps"] / t["tps"], 3)
            f["rep"] = rep
            pairs.append((t, f))
        point = {"tpcb": median_of([t for t, _ in pairs]), "fulfill": median_of([f for _, f in pairs])}
        # a phase's wait events: its median repetition's (the one of median tps)
        for key, idx in (("tpcb", 0), ("fulfill", 1)):
            reps = sorted((p[idx] for p in pairs), key=lambda r: r["tps"])
            point[key]["waits"] = reps[len(reps) // 2]["waits"]
        point["ratio"] = round(statistics.median(f["ratio_to_tpcb"] for _, f in pairs), 3)
        points[str(n)] = point
        log(f"  {n:>2} clients: tpcb-like {point['tpcb']['tps']:.0f} tps, fulfill {point['fulfill']['tps']:.0f} tps "
            f"(x{point['ratio']:.2f}), p99 {point['fulfill']['p99_ms']:.1f} ms")
    out: dict = {"clients": points, "warmup_s": warmup_seconds(st), "pgbench_scale": st.pgbench_scale}
    ours = pgb.backend_cpu_per_transaction(url, seconds=st.seconds, script=fulfill_script(sizes, f"benchcpu{uuid.uuid4().hex[:8]}"),
                                           defines={"i": 0})
    theirs = pgb.backend_cpu_per_transaction(tpcb_url, seconds=st.seconds, builtin="tpcb-like")
    if ours and theirs:
        out["cpu_one_client"] = {"fulfill_us": ours["cpu_us"], "tpcb_us": theirs["cpu_us"],
                                 "ratio": round(theirs["cpu_us"] / ours["cpu_us"], 3),
                                 "fulfill_transactions": ours["transactions"],
                                 "tpcb_transactions": theirs["transactions"]}
    return out


def accept_phase(url: str, sizes: Sizes, mechs: list, n_requests: int, warm_requests: int) -> dict:
    """One point of the accept curve: len(mechs) racers on each of n_requests new requests, after a
    warm-up race on warm_requests others. Every racer's call is a transaction (one wins, the others
    get SR409): calls_per_s is the transaction rate, accepts_per_s the requests decided."""
    with psycopg.connect(url, autocommit=True) as conn:
        warm = make_pending_requests(conn, sizes, warm_requests, f"benchaccw{uuid.uuid4().hex[:8]}")
        reqs = make_pending_requests(conn, sizes, n_requests, f"benchacc{uuid.uuid4().hex[:8]}")
    got = race(url, warm, mechs)
    with psycopg.connect(url, autocommit=True) as conn:
        check_one_winner(conn, got["wins"], got["errors"])
    with Observed(url) as ob:
        got = race(url, reqs, mechs)
    with psycopg.connect(url, autocommit=True) as conn:
        check_one_winner(conn, got["wins"], got["errors"])
    calls = len(got["latencies"])
    s = summarize(got["latencies"])
    s.update(requests=len(reqs), racers=len(mechs), calls=calls, accepts_per_s=round(len(reqs) / got["elapsed"], 1),
             calls_per_s=round(calls / got["elapsed"], 1))
    s.update(ob.result(calls))
    return s


def accept_curve(url: str, sizes: Sizes, st: Settings, clients: tuple[int, ...] = CURVE_CLIENTS,
                 tpcb: dict | None = None, log=print) -> dict:
    """The accept race at each client count (1 = one mechanic accepting requests one after another,
    no contention), st.reps repetitions of st.accept_requests / reps / 2 requests each, warmed up.
    Beside it, when the fulfillment curve ran, tpcb-like's tps at the same client count."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "accept_session_request", "ssr_private.fulfill_checkout")
        mechs = racers(conn, max(clients))
    counts = [n for n in clients if n <= len(mechs)]
    if not counts:
        raise Skip("no available mechanic")
    per_rep = max(4, st.accept_requests // st.reps // 2)
    points: dict = {}
    with lifted_capacity(url, mechs):
        for n in counts:
            reps = [accept_phase(url, sizes, mechs[:n], per_rep, max(2, per_rep // 10)) for _ in range(st.reps)]
            point = median_of(reps)
            point["waits"] = sorted(reps, key=lambda r: r["calls_per_s"])[len(reps) // 2]["waits"]
            t = ((tpcb or {}).get(str(n)) or {}).get("tpcb")
            if t:
                point["tpcb_tps"] = t["tps"]
                point["calls_ratio_to_tpcb"] = round(point["calls_per_s"] / t["tps"], 3)
            points[str(n)] = point
            log(f"  accept, {n:>2} racers: {point['accepts_per_s']:.0f} accepts/s, {point['calls_per_s']:.0f} calls/s, "
                f"p99 {point['p99_ms']:.1f} ms")
    out = {"clients": points, "requests_per_rep": per_rep}
    missing = [n for n in clients if n not in counts]
    if missing:
        out["skipped_clients"] = f"{missing}: only {len(mechs)} available mechanics"
    return out


def point_at(curve: dict | None, clients: int) -> dict | None:
    """The curve's fulfillment at `clients` (the run's --clients, 8 by default), in the form of the
    former single-point figure: its tps and latency, the paired tpcb-like, the ratio, the CPU."""
    point = ((curve or {}).get("clients") or {}).get(str(clients))
    if not point:
        return None
    out = dict(point["fulfill"], ratio_to_tpcb=point["ratio"], paired_tpcb_tps=point["tpcb"]["tps"], clients=clients)
    if curve.get("cpu_one_client"):
        out["cpu_one_client"] = curve["cpu_one_client"]
    return out
