"""The measurements. Each returns a dict of figures (medians of repetitions) or raises
Skip (its function is missing) or WrongResult (it observed an incorrect result)."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg

from bench import WrongResult
from bench import pgbench as pgb
from bench.generate import Sizes
from bench.stats import median_of, summarize, time_calls
from worker import jobs


class Skip(Exception):
    """The measurement cannot run here (e.g. its function is not written yet)."""


@dataclass
class Settings:
    clients: int = 8
    seconds: float = 10.0
    reps: int = 3
    iterations: int = 200
    accept_requests: int = 1000
    e2e_events: int = 4500  # webhooks: 1,500 per repetition (about 3 s), after a warm-up
    # pgbench's scale (branches) at least the most clients of the concurrency curve: below it, tpcb-like's
    # clients queue on the same branch rows and its ceiling drops (pgbench's own documentation).
    pgbench_scale: int = 16
    extra: dict = field(default_factory=dict)


def has_function(conn: psycopg.Connection, name: str) -> bool:
    """A function of schema public, or of the schema named before the dot."""
    schema, _, proname = name.rpartition(".")
    return bool(conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND p.proname = %s)", (schema or "public", proname)).fetchone()[0])


def has_relation(conn: psycopg.Connection, name: str) -> bool:
    """A relation of schema public, or of the schema named before the dot."""
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name if "." in name else f"public.{name}",)).fetchone()[0]


def require(conn: psycopg.Connection, *functions: str) -> None:
    missing = [f for f in functions if not has_function(conn, f)]
    if missing:
        raise Skip("function " + ", ".join(missing) + " is missing")


def latency(url: str, sql: str, params_for, n: int, reps: int, warmup: int = 5, budget_s: float | None = None) -> dict:
    """p50/p99 of one prepared statement (rows fetched), median over reps, one connection.

    With budget_s, a slow statement gets fewer calls per repetition (at least one): the
    first call is timed and n is cut to fit the budget.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        rows_seen = []

        def call(i: int):
            rows = conn.execute(sql, params_for(i), prepare=True).fetchall()
            rows_seen.append(len(rows))

        if budget_s is not None:
            t0 = time.perf_counter()
            call(0)
            first = time.perf_counter() - t0
            n = max(1, min(n, int(budget_s / max(first, 1e-6))))
            warmup = max(0, min(warmup, n // 10))
        out = []
        for _ in range(reps):
            rows_seen.clear()
            s = summarize(time_calls(call, n, warmup))
            s["rows"] = round(sum(rows_seen) / len(rows_seen), 1)
            out.append(s)
    return median_of(out)


# ---------------------------------------------------------------- baselines

def select1_floor(url: str, st: Settings) -> dict:
    """The latency floor of the Python client: SELECT 1 on one connection."""
    return latency(url, "SELECT 1", lambda i: None, max(st.iterations * 5, 500), st.reps)


def ceiling(server: str, st: Settings, log=print) -> dict:
    url = pgb.init(server, st.pgbench_scale, log=log)
    out = {}
    for mode in ("select-only", "tpcb-like"):
        reps = [pgb.run(url, clients=st.clients, seconds=st.seconds, builtin=mode) for _ in range(st.reps)]
        out[mode] = median_of(reps)
        log(f"  pgbench {mode}: {out[mode]['tps']:.0f} tps, p50 {out[mode]['p50_ms']:.3f} ms")
    return out


# ---------------------------------------------------------------- the worker's relay

class RelayRunning:
    """The worker's notification relay during a measurement, in its steady state: the outbox is
    drained first (what earlier phases or the dataset left, `drained` rows, not measured), then
    ssr_private.routing_outbox_relay() runs every `interval` seconds on its own connection (as
    worker/jobs.py runs it), so the routing notifications of the measured transactions are really
    sent, a few at a time, as in production. Counts what it sent after the drain."""

    def __init__(self, url: str, interval: float = 0.1):
        self.url, self.interval = url, interval
        self.stop = threading.Event()
        self.sent = 0
        self.drained = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def drain(self) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            if not has_function(conn, "ssr_private.routing_outbox_relay"):
                return 0
            total = 0
            while n := jobs.relay_count(conn):
                total += n
            return total

    def _loop(self):
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                if not has_function(conn, "ssr_private.routing_outbox_relay"):
                    return
                while not self.stop.is_set():
                    self.sent += jobs.relay_count(conn)
                    self.stop.wait(self.interval)
        except Exception as exc:  # reported by __exit__
            self.errors.append(repr(exc))

    def __enter__(self):
        self.drained = self.drain()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        if self.errors and exc[0] is None:
            raise RuntimeError("relay: " + self.errors[0])


# ---------------------------------------------------------------- fulfillment

FULFILL_SCRIPT = """\\set i :i + 1
\\set c random(1, {C})
\\set w random(1, {W})
\\set r random(0, 9)
SELECT session_id, session_request_id, created FROM ssr_private.fulfill_checkout(
    (ARRAY['video15', 'video30', 'diag45'])[1 + :i % 3],
    'cs_{tag}_' || :client_id || '_' || :i,
    NULL,
    md5('bench-c-' || :c)::uuid,
    NULL,
    (ARRAY[2900, 4900, 6900])[1 + :i % 3],
    'usd',
    NULL,
    CASE WHEN :r < 5 THEN NULL ELSE md5('bench-w-' || CASE WHEN :w % 20 >= 18 THEN :w - 2 ELSE :w END)::uuid END,
    CASE WHEN :r < 5 THEN 'broadcast' WHEN :r < 8 THEN 'hybrid' ELSE 'workshop_only' END
);
"""


# The design note's two indexes on sessions, in the forms a DBA could choose: as shipped (partial,
# composite: migrations 0066 and 0090), as the note first made them (one column, every row), and none.
NOTE_SESSION_INDEXES = ("sessions_workshop_id_idx", "sessions_preferred_workshop_idx")
NOTE_INDEX_FORMS = {
    "shipped": None,  # the definitions read from the database
    "one_column": ("CREATE INDEX sessions_workshop_id_idx ON sessions (workshop_id)",
                   "CREATE INDEX sessions_preferred_workshop_idx ON sessions (preferred_workshop_id)"),
    "none": (),
}


def note_indexes_cost(url: str, sizes: Sizes, st: Settings) -> dict:
    """What the design note's two indexes on sessions cost a fulfillment: fulfill_checkout under
    pgbench (as in fulfill, relay running) with the indexes as shipped, in the note's original
    one-column form, and dropped, on the same throw-away copy, interleaved (each repetition runs
    every form, in rotating order). Per form: tps and the WAL bytes per transaction (the index
    entries written show there). ratio = tps of the form / tps without the indexes."""
    with psycopg.connect(url, autocommit=True) as conn:
        shipped = [conn.execute("SELECT pg_get_indexdef(to_regclass(%s))", (name,)).fetchone()[0]
                   for name in NOTE_SESSION_INDEXES]
    if None in shipped:
        raise Skip("the design note's sessions indexes are not installed")
    forms = dict(NOTE_INDEX_FORMS, shipped=tuple(shipped))

    def use(form: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for name in NOTE_SESSION_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            for ddl in forms[form]:
                conn.execute(ddl)
            conn.execute("CHECKPOINT")  # every form starts after a checkpoint: the same full-page writes

    order = list(forms)
    runs: dict = {form: [] for form in forms}
    try:
        for rep in range(st.reps):
            for form in order[rep % len(order):] + order[:rep % len(order)]:
                use(form)
                tag = f"benchidx{uuid.uuid4().hex[:8]}"
                with psycopg.connect(url, autocommit=True) as conn:
                    lsn0 = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
                with RelayRunning(url):
                    res = pgb.run(url, clients=st.clients, seconds=st.seconds,
                                  script=FULFILL_SCRIPT.format(C=sizes.customers, W=sizes.workshops, tag=tag),
                                  defines={"i": 0})
                with psycopg.connect(url, autocommit=True) as conn:
                    wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (lsn0,)).fetchone()[0]
                check_fulfilled(url, tag, res["transactions"])
                res["wal_bytes_per_tx"] = round(float(wal) / max(1, res["transactions"]))
                res["rep"] = rep
                runs[form].append(res)
    finally:
        use("shipped")
    out: dict = {form: median_of(r) for form, r in runs.items()}
    out["ratio"] = {form: round(out[form]["tps"] / out["none"]["tps"], 3) for form in ("shipped", "one_column")}
    out["wal_over_none"] = {form: out[form]["wal_bytes_per_tx"] - out["none"]["wal_bytes_per_tx"]
                            for form in ("shipped", "one_column")}
    return out


def check_fulfilled(url: str, tag: str, expected: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        sessions, requests, doubled = conn.execute(
            """
            SELECT count(DISTINCT s.id), count(r.id),
                   count(*) FILTER (WHERE r.id IS NULL) + (count(r.id) - count(DISTINCT r.session_id))
            FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id
            WHERE s.stripe_checkout_session_id LIKE %s
            """,
            (f"cs_{tag}_%",),
        ).fetchone()
    if sessions != expected or requests != expected or doubled:
        raise WrongResult(
            f"fulfill_checkout: {expected} committed calls but {sessions} sessions and {requests} requests "
            f"({doubled} sessions without exactly one request)"
        )


# ---------------------------------------------------------------- accept under contention

def racers(conn: psycopg.Connection, n: int) -> list[uuid.UUID]:
    """n mechanics eligible for any broadcast request: active, available, independent or of an active workshop."""
    rows = conn.execute(
        """
        SELECT m.id FROM mechanics AS m LEFT JOIN organizations AS o ON o.id = m.workshop_id
        WHERE m.status = 'active' AND m.is_available AND (m.workshop_id IS NULL OR o.status = 'active')
        ORDER BY md5(m.id::text) LIMIT %s
        """,
        (n,),
    ).fetchall()
    return [r[0] for r in rows]


def make_pending_requests(conn: psycopg.Connection, sizes: Sizes, n: int, tag: str) -> list[uuid.UUID]:
    """n paid broadcast requests, created by fulfill_checkout in one statement."""
    rows = conn.execute(
        """
        SELECT f.session_request_id
        FROM generate_series(1, %(n)s) AS i,
             LATERAL ssr_private.fulfill_checkout('video15', 'cs_' || %(tag)s || '_' || i, NULL,
                                      md5('bench-c-' || (1 + i %% %(c)s))::uuid, NULL, 2900, 'usd') AS f
        ORDER BY i
        """,
        {"n": n, "tag": tag, "c": sizes.customers},
    ).fetchall()
    return [r[0] for r in rows]


def race(url: str, request_ids: list, mechanic_ids: list) -> dict:
    """One thread per mechanic, own connection; a barrier before each request, all call accept.

    Returns per-request winners (as the callers saw them), counts of outcomes and the elapsed time.
    """
    n = len(mechanic_ids)
    barrier = threading.Barrier(n)
    wins: dict = {rid: [] for rid in request_ids}
    lat: list[float] = []
    conflicts = [0]
    errors: list[str] = []
    lock = threading.Lock()

    def worker(mech):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                # accept acts for a mechanic: the connection identifies it as the app does
                conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(mech),))
                barrier.wait()
                for rid in request_ids:
                    barrier.wait()
                    t0 = time.perf_counter()
                    try:
                        conn.execute("SELECT id FROM accept_session_request(%s, %s)", (rid, mech),
                                     prepare=True).fetchall()
                        won = True
                    except psycopg.Error as exc:
                        won = False
                        code = exc.sqlstate
                        if code != "SR409":
                            with lock:
                                errors.append(f"{code}: {str(exc).splitlines()[0]}")
                    dt = time.perf_counter() - t0
                    with lock:
                        lat.append(dt)
                        if won:
                            wins[rid].append(mech)
                        else:
                            conflicts[0] += 1
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:  # pragma: no cover - reported below
            with lock:
                errors.append(repr(exc))
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(m,)) for m in mechanic_ids]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"wins": wins, "latencies": lat, "conflicts": conflicts[0], "errors": errors, "elapsed": elapsed}


def check_one_winner(conn: psycopg.Connection, wins: dict, errors: list[str]) -> None:
    """Every request: exactly one caller saw success, and the row names that caller. Else WrongResult."""
    if errors:
        raise WrongResult(f"accept_session_request: {len(errors)} unexpected errors, first: {errors[0]}")
    bad = {rid: w for rid, w in wins.items() if len(w) != 1}
    if bad:
        rid, w = next(iter(bad.items()))
        raise WrongResult(f"accept_session_request: {len(bad)} of {len(wins)} requests did not have exactly one "
                          f"winner (request {rid}: {len(w)} winners)")
    rows = dict(conn.execute(
        "SELECT id, mechanic_id FROM session_requests WHERE id = ANY(%s) AND status = 'accepted'",
        (list(wins),)).fetchall())
    wrong = [rid for rid, w in wins.items() if rows.get(rid) != w[0]]
    if wrong:
        raise WrongResult(f"accept_session_request: {len(wrong)} requests are not accepted by the caller told it won "
                          f"(e.g. {wrong[0]})")


def accept_contention(url: str, sizes: Sizes, st: Settings) -> dict:
    """Accept under contention, twice: with the statistics as the earlier writes left them (as in
    production after a burst of requests, before autovacuum analyzes a big table), then after
    ANALYZE session_requests. Both must give exactly one winner per request."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "accept_session_request", "ssr_private.fulfill_checkout")
        mechs = racers(conn, st.clients)
        if len(mechs) < 2:
            raise Skip("fewer than 2 available mechanics")
        pending = conn.execute("SELECT count(*) FROM session_requests WHERE status = 'pending'").fetchone()[0]
    with lifted_capacity(url, mechs):
        out = _accept_reps(url, sizes, st, mechs)
        out["pending_requests_before"] = pending
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE session_requests")
        out["after_analyze"] = _accept_reps(url, sizes, st, mechs)
    return out


@contextlib.contextmanager
def lifted_capacity(url: str, mechs: list):
    """Each racer wins about 1/8 of the requests: where mechanics have a capacity of concurrent
    sessions, lift the racers' for the race (accept still checks it on every call), then end
    the sessions they won and restore it, so later measurements see them free as before."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not has_column(conn, "mechanics", "capacity"):
            yield
            return
        caps = conn.execute("SELECT id, capacity FROM mechanics WHERE id = ANY(%s)", (mechs,)).fetchall()
        conn.execute("UPDATE mechanics SET capacity = 1000000 WHERE id = ANY(%s)", (mechs,))
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "UPDATE sessions SET status = 'completed', started_at = now(), ended_at = now() "
                "WHERE mechanic_id = ANY(%s) AND status IN ('waiting', 'live')",
                (mechs,),
            )
            with conn.cursor() as cur:
                cur.executemany("UPDATE mechanics SET capacity = %s WHERE id = %s", [(c, m) for m, c in caps])


def has_column(conn: psycopg.Connection, table: str, column: str) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s AND column_name = %s)",
        (table, column),
    ).fetchone()[0]


def _accept_reps(url: str, sizes: Sizes, st: Settings, mechs: list) -> dict:
    reps = []
    per_rep = max(1, st.accept_requests // st.reps)
    for _ in range(st.reps):
        with psycopg.connect(url, autocommit=True) as conn:
            reqs = make_pending_requests(conn, sizes, per_rep, f"benchacc{uuid.uuid4().hex[:8]}")
        got = race(url, reqs, mechs)
        with psycopg.connect(url, autocommit=True) as conn:
            check_one_winner(conn, got["wins"], got["errors"])
        s = summarize(got["latencies"])
        s.update(requests=len(reqs), racers=len(mechs), accepts_per_s=round(len(reqs) / got["elapsed"], 1),
                 conflicts=got["conflicts"])
        reps.append(s)
    out = median_of(reps)
    out["requests_total"] = sum(r["requests"] for r in reps)
    out["every_request_one_winner"] = True
    return out


# ---------------------------------------------------------------- routing, directory, analytics

def routing_workshops(conn: psycopg.Connection, n: int = 50) -> list:
    rows = conn.execute(
        """
        SELECT o.id FROM organizations AS o
        WHERE o.status = 'active' AND EXISTS (
            SELECT 1 FROM mechanics AS m WHERE m.workshop_id = o.id AND m.status = 'active' AND m.is_available)
        ORDER BY md5(o.id::text) LIMIT %s
        """,
        (n,),
    ).fetchall()
    return [r[0] for r in rows]


def routing(url: str, st: Settings) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "get_mechanics_for_routing")
        ws = routing_workshops(conn)
    sql = "SELECT * FROM get_mechanics_for_routing(%s, %s)"
    out: dict = {}
    for strategy in ("workshop_only", "hybrid", "broadcast"):
        if not ws and strategy != "broadcast":
            out[strategy] = {"skipped": "no active workshop with an available mechanic"}
            continue
        def params(i, strategy=strategy):
            return (None if strategy == "broadcast" else ws[i % len(ws)], strategy)
        # hybrid and broadcast return every available mechanic (tens of thousands at scale 10):
        # at most ~10 s per repetition
        out[strategy] = latency(url, sql, params, st.iterations, st.reps, budget_s=10.0)
    return out



def routing_page(url: str, st: Settings, limit: int = 50) -> dict:
    """get_mechanics_for_routing_page, what a dispatcher calls instead of the whole list: the first
    page (limit 50) of hybrid and broadcast, and a hybrid page at ~90 % of the list reached by its
    keyset cursor (the row before it taken from the full list before timing)."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "get_mechanics_for_routing_page")
        ws = routing_workshops(conn)
        if not ws:
            raise Skip("no active workshop with an available mechanic")
        cursors = []
        for w in ws[:10]:
            rows = conn.execute(
                "SELECT f.priority_score, m.rating, f.mechanic_id FROM get_mechanics_for_routing(%s, 'hybrid') AS f "
                "JOIN mechanics AS m ON m.id = f.mechanic_id", (w,)).fetchall()
            if len(rows) > limit:
                cursors.append((w, *rows[int(len(rows) * 0.9) - 1]))
    sql = ("SELECT * FROM get_mechanics_for_routing_page(%s::uuid, %s, %s::integer, %s::integer, %s::numeric, "
           "%s::uuid)")
    out: dict = {}
    for strategy in ("hybrid", "broadcast"):
        def params(i, strategy=strategy):
            return (None if strategy == "broadcast" else ws[i % len(ws)], strategy, limit, None, None, None)
        out[f"{strategy}_first"] = latency(url, sql, params, st.iterations, st.reps)
    if cursors:
        def deep(i):
            w, score, rating, mid = cursors[i % len(cursors)]
            return (w, "hybrid", limit, score, rating, mid)
        out["hybrid_deep"] = latency(url, sql, deep, st.iterations, st.reps)
    return out

def directory(url: str, st: Settings) -> dict:
    """The first page, and a deep page at ~90% of the list reached as the API's own links do:
    a keyset page (starting_after the cursor of the row just before it, taken before timing).
    The same depth by offset is kept, labelled, for comparison (its cost grows with the offset)."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "get_workshop_directory")
        total = conn.execute("SELECT max(total_count) FROM get_workshop_directory(1, 0)").fetchone()[0] or 0
        deep = max(0, int(total * 0.9) // 20 * 20)
        keyset = "row_cursor" in {
            r[0] for r in conn.execute(
                "SELECT unnest(proargnames) FROM pg_proc WHERE proname = 'get_workshop_directory'").fetchall()}
        cursor = None
        if keyset and deep > 0:
            # the row at offset deep - 1: its cursor starts the page at offset `deep`
            cursor = conn.execute("SELECT row_cursor FROM get_workshop_directory(1, %s)", (deep - 1,)).fetchone()[0]
    sql = "SELECT * FROM get_workshop_directory(%s, %s)"
    out = {
        "first_page": latency(url, sql, lambda i: (20, 0), st.iterations, st.reps),
        "deep_page_offset": latency(url, sql, lambda i: (20, deep), st.iterations, st.reps),
    }
    out["deep_page_offset"]["offset"] = deep
    if cursor is not None:
        after = "SELECT * FROM get_workshop_directory(%s, 0, %s)"
        out["deep_page"] = latency(url, after, lambda i: (20, cursor), st.iterations, st.reps)
    else:  # a list of one page, or a version without cursors: the offset page is the deep page
        out["deep_page"] = dict(out["deep_page_offset"])
    out["deep_page"]["offset"] = deep
    out["deep_page"]["keyset"] = cursor is not None
    out["listed_workshops"] = total
    return out


PICK_WORKSHOP = ("SELECT workshop_id FROM workshop_stats ORDER BY sessions_served DESC, workshop_id LIMIT 1")
# label -> (SQL, whether it takes the busiest workshop as parameter). The full read of the
# per-workshop view is left out: at 10M sessions it is millions of rows, not a BI query.
BI_READS = {
    "workshop_session_analytics, one workshop, grain month": (
        "SELECT * FROM analytics.workshop_session_analytics WHERE workshop_id = %s AND period_grain = 'month'", True),
    "workshop_session_analytics, one month of every workshop": (
        "SELECT * FROM analytics.workshop_session_analytics WHERE period_grain = 'month' "
        "AND period_start = date_trunc('month', current_date - 31)::date", False),
    "workshop_session_analytics, one workshop, grain day, last 30 days": (
        "SELECT * FROM analytics.workshop_session_analytics WHERE workshop_id = %s AND period_grain = 'day' "
        "AND period_start >= current_date - 30", True),
    "routing_effectiveness, last 30 days": (
        "SELECT * FROM analytics.routing_effectiveness WHERE day >= current_date - 30", False),
    "routing_effectiveness, full read": ("SELECT * FROM analytics.routing_effectiveness", False),
}


def busiest_workshop(conn: psycopg.Connection):
    ws = conn.execute(PICK_WORKSHOP).fetchone() if has_relation(conn, "workshop_stats") else None
    if ws is None:
        ws = conn.execute("SELECT workshop_id FROM sessions WHERE workshop_id IS NOT NULL LIMIT 1").fetchone()
    return ws[0] if ws else None


def drain_analytics(url: str) -> dict:
    """Run ssr_private.refresh_analytics() until the queue is empty: changes applied, runs, seconds."""
    t0 = time.perf_counter()
    runs = changes = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            ran, n, _wd, _rd, more = conn.execute("SELECT * FROM ssr_private.refresh_analytics()").fetchone()
            runs += 1
            changes += n
            if not (ran and more):
                break
    return {"changes": changes, "runs": runs, "seconds": round(time.perf_counter() - t0, 3)}


def analytics(url: str, st: Settings) -> dict:
    """The BI reads (filtered and a month of every workshop) and the job with nothing queued;
    the histogram percentiles against the exact percentile_cont of the raw rows."""
    out: dict = {}
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "ssr_private.refresh_analytics")
        if not has_relation(conn, "analytics.workshop_session_analytics"):
            raise Skip("view workshop_session_analytics is missing")
        ws = busiest_workshop(conn)
    out["drain_before"] = drain_analytics(url)
    out["refresh_idle"] = latency(url, "SELECT * FROM ssr_private.refresh_analytics()", lambda i: None, st.iterations, st.reps)
    reads = {}
    for label, (sql, takes_ws) in BI_READS.items():
        reads[label] = latency(url, sql, lambda i, a=((ws,) if takes_ws else None): a, st.iterations, st.reps,
                               budget_s=3.0)
        reads[label]["sql"] = sql.replace("%s", f"'{ws}'")
    out["reads"] = reads
    out["percentile_error"] = percentile_error(url)
    return out


PCT_SAMPLE = """
SELECT r.workshop_id, r.period_start, r.accepted_requests, r.median_accept_seconds, r.p90_accept_seconds,
       x.median, x.p90
FROM analytics_workshop_rollup AS r
CROSS JOIN LATERAL (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(EPOCH FROM q.accepted_at - q.created_at)) AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(EPOCH FROM q.accepted_at - q.created_at)) AS p90
    FROM session_requests AS q
    WHERE q.workshop_id = r.workshop_id AND q.status = 'accepted'
      AND q.created_at >= r.period_start::timestamp AT TIME ZONE 'UTC'
      AND q.created_at < (r.period_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
) AS x
WHERE r.period_grain = 'month' AND r.accepted_requests > 0
ORDER BY md5(r.workshop_id::text || r.period_start::text)
LIMIT %s
"""


def percentile_error(url: str, n: int = 300) -> dict:
    """Relative error of the rollups' median and p90 (histogram with buckets of 3 significant
    digits, merged from days into months) against the exact percentile_cont of the raw rows,
    on n workshop-months of the data."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(PCT_SAMPLE, (n,)).fetchall()
    if not rows:
        raise Skip("no accepted request in the rollups")
    errs = {"median": [], "p90": []}
    for _w, _p, _n, med, p90, xmed, xp90 in rows:
        for key, got, want in (("median", med, xmed), ("p90", p90, xp90)):
            errs[key].append(abs(got - want) / want if want else abs(got - want))
    return {
        "workshop_months": len(rows),
        "accepted_requests": sum(r[2] for r in rows),
        "median_max_rel_error": round(max(errs["median"]), 5),
        "median_mean_rel_error": round(sum(errs["median"]) / len(rows), 6),
        "p90_max_rel_error": round(max(errs["p90"]), 5),
        "p90_mean_rel_error": round(sum(errs["p90"]) / len(rows), 6),
    }


def freshness(url: str, sizes: Sizes, st: Settings, log=print, interval: float = 5.0) -> dict:
    """BI data age while fulfillment runs: pgbench runs fulfill_checkout (as in `fulfill`) while
    the worker's job, ssr_private.refresh_analytics(), runs every `interval` seconds until the queue is
    empty, and a reader samples twice a second the age of the oldest queued change (how old
    the BI data is) and the BI reads' latency. Afterwards the views must equal a recount of
    today's requests."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "ssr_private.refresh_analytics", "ssr_private.fulfill_checkout")
        if sizes.workshops < 18:
            raise Skip("needs at least 18 workshops (scale >= 0.009)")
        ws = busiest_workshop(conn)
    catch_up = drain_analytics(url)
    seconds = max(30.0, 3 * st.seconds)
    stop = threading.Event()
    jobs: list[dict] = []
    ages: list[float] = []
    reads: list[float] = []
    errors: list[str] = []

    def job_loop():
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                d = drain_analytics(url)
                d["seconds"] = round(time.perf_counter() - t0, 3)
                jobs.append(d)
                stop.wait(max(0.0, interval - d["seconds"]))
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    def sampler():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                while not stop.is_set():
                    age = conn.execute(
                        "SELECT coalesce(extract(EPOCH FROM clock_timestamp() - min(logged_at)), 0) "
                        "FROM analytics_changes").fetchone()[0]
                    ages.append(float(age))
                    for label, (sql, takes_ws) in BI_READS.items():
                        if "full read" in label:
                            continue
                        t0 = time.perf_counter()
                        conn.execute(sql, (ws,) if takes_ws else None, prepare=True).fetchall()
                        reads.append(time.perf_counter() - t0)
                    stop.wait(0.5)
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=job_loop), threading.Thread(target=sampler)]
    for t in threads:
        t.start()
    tag = f"benchfresh{uuid.uuid4().hex[:8]}"
    try:
        with RelayRunning(url):
            res = pgb.run(url, clients=st.clients, seconds=seconds,
                          script=FULFILL_SCRIPT.format(C=sizes.customers, W=sizes.workshops, tag=tag),
                          defines={"i": 0})
    finally:
        stop.set()
        for t in threads:
            t.join()
    if errors:
        raise RuntimeError("freshness: " + errors[0])
    check_fulfilled(url, tag, res["transactions"])
    final = drain_analytics(url)
    with psycopg.connect(url, autocommit=True) as conn:
        bad = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT routing_type, count(*) AS n FROM session_requests
                WHERE created_at >= current_date::timestamp AT TIME ZONE 'UTC' GROUP BY routing_type
            ) AS raw
            FULL JOIN (SELECT routing_type, requests FROM analytics.routing_effectiveness
                       WHERE day = (now() AT TIME ZONE 'UTC')::date) AS v USING (routing_type)
            WHERE raw.n IS DISTINCT FROM v.requests
            """).fetchone()[0]
    if bad:
        raise WrongResult(f"analytics: routing_effectiveness of today differs from a recount for {bad} routing types")
    busy = [j for j in jobs if j["changes"]]
    per_s = [j["changes"] / j["seconds"] for j in busy if j["seconds"] > 0]
    return {
        "seconds": seconds,
        "interval_s": interval,
        "fulfill_tps": res["tps"],
        "fulfill_p99_ms": res["p99_ms"],
        "catch_up_before": catch_up,
        "max_data_age_s": round(max(ages), 1) if ages else None,
        "p50_data_age_s": round(sorted(ages)[len(ages) // 2], 1) if ages else None,
        "job_runs": len(jobs),
        "job_p50_s": round(sorted(j["seconds"] for j in jobs)[len(jobs) // 2], 3) if jobs else None,
        "job_max_s": round(max(j["seconds"] for j in jobs), 3) if jobs else None,
        "changes_per_run_max": max((j["changes"] for j in jobs), default=0),
        "changes_applied_per_s": round(sorted(per_s)[len(per_s) // 2], 0) if per_s else None,
        "bi_reads_during": summarize(reads) if reads else None,
        "final_drain": final,
        "views_equal_recount_today": True,
    }


def has_function_url(url: str, name: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return has_function(conn, name)


# ---------------------------------------------------------------- PL/Python

PLPY_FUNCS = """
CREATE FUNCTION pg_temp.bench_py_score(a int, b int) RETURNS int LANGUAGE plpython3u IMMUTABLE
AS 'return a * 2 + b';
CREATE FUNCTION pg_temp.bench_sql_score(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE
AS 'SELECT a * 2 + b';
CREATE FUNCTION pg_temp.bench_plpgsql_score(a int, b int) RETURNS int LANGUAGE plpgsql IMMUTABLE
AS 'BEGIN RETURN a * 2 + b; END';
"""


def plpython_cost(url: str, st: Settings) -> dict:
    """Per-call cost of PL/Python against SQL and PL/pgSQL equivalents and SELECT 1, plus the
    schema's own PL/Python functions (explain_routing when it is one)."""
    out: dict = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PLPY_FUNCS)
        n = st.iterations * 5
        for label, fn in (("sql", "bench_sql_score"), ("plpgsql", "bench_plpgsql_score"),
                          ("plpython", "bench_py_score")):
            reps = []
            for _ in range(st.reps):
                # 1,000 calls in one statement: the per-call cost without the round trip.
                t0 = time.perf_counter()
                conn.execute(f"SELECT sum(pg_temp.{fn}(g, 1)) FROM generate_series(1, 1000) AS g").fetchone()
                per_call_us = (time.perf_counter() - t0) / 1000 * 1e6
                lat = time_calls(lambda i, fn=fn: conn.execute(f"SELECT pg_temp.{fn}(%s, 1)", (i,),
                                                               prepare=True).fetchone(), n)
                s = summarize(lat)
                s["per_call_in_set_us"] = round(per_call_us, 3)
                reps.append(s)
            out[label] = median_of(reps)
        pyfuncs = [r[0] for r in conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
            "JOIN pg_language AS l ON l.oid = p.prolang WHERE n.nspname IN ('public', 'ssr_private') "
            "AND l.lanname = 'plpython3u' "
            "ORDER BY 1").fetchall()]
        out["schema_plpython_functions"] = pyfuncs
        if has_function(conn, "ssr_private.explain_routing"):
            out["explain_routing"] = explain_routing_cost(conn, url, st)
        else:
            out["explain_routing"] = {"skipped": "function explain_routing is missing"}
    return out


EXPLAIN_SQL_EQUIVALENT = """
SELECT e.id, e.created_at, e.event_type, e.mechanic_id, e.workshop_id, e.detail, m.name, o.name
FROM routing_events AS e
LEFT JOIN mechanics AS m ON m.id = e.mechanic_id
LEFT JOIN organizations AS o ON o.id = e.workshop_id
WHERE e.request_id = %s ORDER BY e.id
"""


def explain_routing_cost(conn: psycopg.Connection, url: str, st: Settings) -> dict:
    """explain_routing (PL/Python) on the request with the longest audit trail, beside the plain SQL
    query of the same rows (what it costs to add the narrative in PL/Python)."""
    lang = conn.execute(
        "SELECT l.lanname FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang "
        "WHERE p.proname = 'routing_event_narrative' LIMIT 1").fetchone()[0]
    if not has_relation(conn, "routing_events"):
        return {"skipped": "table routing_events is missing"}
    rid = conn.execute(
        "SELECT request_id FROM routing_events GROUP BY request_id ORDER BY count(*) DESC, request_id LIMIT 1"
    ).fetchone()
    if not rid:
        return {"skipped": "no routed request in this database"}
    out = latency(url, "SELECT * FROM ssr_private.explain_routing(%s)", lambda i: (rid[0],), st.iterations, st.reps)
    out["language"] = lang
    out["sql_equivalent"] = latency(url, EXPLAIN_SQL_EQUIVALENT, lambda i: (rid[0],), st.iterations, st.reps)
    return out


# ---------------------------------------------------------------- offers and bulk load

def offers(url: str, st: Settings) -> dict:
    """get_mechanic_offers(mechanic, 50): what a mechanic's dashboard polls, with the pending
    requests the earlier measurements left (fulfill creates thousands)."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "get_mechanic_offers")
        mechs = racers(conn, 20)
        pending = conn.execute("SELECT count(*) FROM session_requests WHERE status = 'pending'").fetchone()[0]
    if not mechs:
        raise Skip("no available mechanic")
    # get_mechanic_offers acts for a mechanic: app.mechanic_id is set in the same statement
    sql = ("SELECT o.* FROM (SELECT set_config('app.mechanic_id', %s::text, TRUE)) AS s (m) "
           "CROSS JOIN LATERAL get_mechanic_offers(s.m::uuid, 50) AS o")
    out = latency(url, sql, lambda i: (mechs[i % len(mechs)],),
                  st.iterations, st.reps)
    out["pending_requests"] = pending
    return out


# ---------------------------------------------------------------- the cost of capacity in the rule

OFFERABLE = "routing_mechanic_offerable(text,boolean,uuid,text,integer,integer)"
# The rule without its capacity clause: eligibility only (same signature, plain SQL, inlined the same way).
OFFERABLE_WITHOUT_CAPACITY = """
CREATE OR REPLACE FUNCTION public.routing_mechanic_offerable(
    p_status text, p_is_available boolean, p_workshop_id uuid, p_workshop_status text,
    p_open_sessions integer, p_capacity integer
) RETURNS boolean
LANGUAGE sql
IMMUTABLE
AS $$ SELECT routing_mechanic_eligible(p_status, p_is_available, p_workshop_id, p_workshop_status) $$
"""
CAPACITY_LIMIT = 1.10  # capacity may cost at most 10 % over the rule without it


def offerable_mechanics(conn: psycopg.Connection, n: int) -> list[uuid.UUID]:
    """n mechanics both forms of the rule admit (eligible and below capacity): both see the same offers."""
    rows = conn.execute(
        """
        SELECT m.id FROM mechanics AS m LEFT JOIN organizations AS o ON o.id = m.workshop_id
        WHERE routing_mechanic_offerable(m.status, m.is_available, m.workshop_id, o.status, m.open_sessions, m.capacity)
        ORDER BY md5(m.id::text) LIMIT %s
        """,
        (n,),
    ).fetchall()
    return [r[0] for r in rows]


def capacity_cost(url: str, sizes: Sizes, st: Settings) -> dict:
    """accept (the 8-way race) and get_mechanic_offers with the rule as shipped (routing_mechanic_offerable:
    eligibility and open_sessions < capacity) and with its capacity clause removed (CREATE OR REPLACE of that one
    function in this throw-away copy), on the same data, interleaved: each repetition runs both forms, in
    alternating order, each on new connections. Both keep everything else of accept, the lock on the mechanic's
    row included (it makes capacity race-safe and is paid by every accept). ratio = shipped / without capacity
    (p50 latency; for accept also the inverse of the throughput); regression when above CAPACITY_LIMIT."""
    with psycopg.connect(url, autocommit=True) as conn:
        require(conn, "accept_session_request", "get_mechanic_offers", "routing_mechanic_offerable")
        shipped_def = conn.execute("SELECT pg_get_functiondef(%s::regprocedure)", (OFFERABLE,)).fetchone()[0]
        mechs = racers(conn, st.clients)
        readers = offerable_mechanics(conn, 20)
    if len(mechs) < 2 or not readers:
        raise Skip("fewer than 2 available mechanics")

    def use(form: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(shipped_def if form == "shipped" else OFFERABLE_WITHOUT_CAPACITY)

    offers_sql = ("SELECT o.* FROM (SELECT set_config('app.mechanic_id', %s::text, TRUE)) AS s (m) "
                  "CROSS JOIN LATERAL get_mechanic_offers(s.m::uuid, 50) AS o")
    per_rep = max(1, st.accept_requests // st.reps)
    runs: dict = {"shipped": {"accept": [], "offers": []}, "without_capacity": {"accept": [], "offers": []}}
    try:
        with lifted_capacity(url, mechs):
            for rep in range(st.reps):
                for form in (("shipped", "without_capacity") if rep % 2 == 0 else ("without_capacity", "shipped")):
                    use(form)
                    with psycopg.connect(url, autocommit=True) as conn:
                        reqs = make_pending_requests(conn, sizes, per_rep, f"benchcap{uuid.uuid4().hex[:8]}")
                    got = race(url, reqs, mechs)
                    with psycopg.connect(url, autocommit=True) as conn:
                        check_one_winner(conn, got["wins"], got["errors"])
                    a = summarize(got["latencies"])
                    a.update(requests=len(reqs), accepts_per_s=round(len(reqs) / got["elapsed"], 1))
                    runs[form]["accept"].append(a)
                    runs[form]["offers"].append(latency(url, offers_sql, lambda i: (readers[i % len(readers)],),
                                                        st.iterations, 1))
    finally:
        use("shipped")
    out: dict = {"racers": len(mechs), "offer_readers": len(readers), "limit": CAPACITY_LIMIT}
    for form, r in runs.items():
        out[form] = {"accept": median_of(r["accept"]), "offers": median_of(r["offers"])}
    shipped, base = out["shipped"], out["without_capacity"]
    out["ratio"] = {
        "accept_p50": round(shipped["accept"]["p50_ms"] / base["accept"]["p50_ms"], 3),
        "accept_throughput": round(base["accept"]["accepts_per_s"] / shipped["accept"]["accepts_per_s"], 3),
        "offers_p50": round(shipped["offers"]["p50_ms"] / base["offers"]["p50_ms"], 3),
    }
    out["regression"] = sorted(k for k, v in out["ratio"].items() if v > CAPACITY_LIMIT)
    return out


def bulk_load(url: str, sizes: Sizes, st: Settings, rows: int = 20_000) -> dict:
    """Why the generator disables row triggers: the same batch of sessions, requests and reviews
    inserted with the schema's triggers and FK checks, then with session_replication_role = replica."""
    from bench.generate import REQUESTS, REVIEWS, SEQ_UUID, SESSIONS, fill

    out = {}
    base = sizes.sessions + 10_000_000  # ids beyond the dataset's
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SEQ_UUID)
        for label, role in (("with_triggers", "origin"), ("replica_no_triggers", "replica")):
            reps = []
            for r in range(st.reps):
                lo = base + (r * 2 + (role == "replica")) * rows + 1
                p = dict(sizes.params(), lo=lo, hi=lo + rows - 1)
                conn.execute(f"SET session_replication_role = {role}")
                t0 = time.perf_counter()
                with conn.transaction():
                    conn.execute(fill(SESSIONS, p))
                    conn.execute(fill(REQUESTS, p))
                    conn.execute(fill(REVIEWS, p))
                dt = time.perf_counter() - t0
                conn.execute("SET session_replication_role = origin")
                reps.append({"seconds": round(dt, 3), "sessions_per_s": round(rows / dt, 1)})
            out[label] = median_of(reps)
    out["rows"] = rows
    out["slowdown"] = round(out["replica_no_triggers"]["sessions_per_s"] / out["with_triggers"]["sessions_per_s"], 2)
    return out
