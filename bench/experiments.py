"""Experiments' costs (a short bench phase; run alone: `make bench-experiments`).

1. Assignment on the fulfillment hot path: the same loop of N session + routed request inserts
   (ssr_private.create_session_request -> session_request_insert, what fulfill_checkout runs),
   timed inside the server, with no experiment, with a running customer-hash experiment and with
   a running switchback experiment; batches alternate (A B C A B C ...) and each is rolled back,
   so the three see the same database. Reported: median ms per request and the ratio to none.
2. Analysis of 1M assigned requests: per-unit rollup rows standing for 1M requests (switchback:
   20,000 windows x groups of 50 requests; customer: 250,000 customers of 4), then
   ssr_private.experiment_analysis timed (PL/Python layer).

    DATABASE_URL=<migrated scratch database> python -m bench.experiments [--n 300] [--rounds 5]
        [--base-url <a database of the same cluster migrated from main>] [--hot-path-only]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import psycopg

SETUP = """
INSERT INTO organizations (name, contact_email, status) VALUES ('Bench WS', 'bench-ws@x.example', 'active')
RETURNING id
"""

LOOP = """
DO $$
DECLARE v_s uuid; v_t0 timestamptz := clock_timestamp(); v_c uuid;
BEGIN
    FOR i IN 1..%(n)s LOOP
        INSERT INTO customers (email) VALUES ('b' || i || '-' || gen_random_uuid() || '@x.example') RETURNING id INTO v_c;
        INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency)
        VALUES (v_c, 'bench_plan', 2900, 'usd') RETURNING id INTO v_s;
        PERFORM ssr_private.create_session_request(v_c, 'bench_plan', v_s, NULL, '%(ws)s', 'hybrid');
    END LOOP;
    PERFORM set_config('bench.ms', (extract(EPOCH FROM clock_timestamp() - v_t0) * 1000)::text, FALSE);
END $$
"""


def experiment(conn, unit: str) -> int:
    d = {"name": f"bench-{unit}-{uuid.uuid4().hex[:12]}", "unit": unit, "seed": 1, "arms": [
        {"name": "control", "weight": 0.5, "control": True, "params": {}},
        {"name": "short", "weight": 0.5, "params": {"hybrid_window_seconds": 30}}]}
    if unit == "switchback":
        d |= {"window_seconds": 3600, "grouping": "marketplace"}
    conn.execute("SELECT set_config('app.staff_id', %s, TRUE)", (STAFF,))
    eid = conn.execute("SELECT id FROM create_routing_experiment(%s, %s)", (STAFF, json.dumps(d))).fetchone()[0]
    conn.execute("SELECT start_routing_experiment(%s, %s)", (STAFF, eid))
    return eid


STAFF = "44444444-4444-4444-8444-0000000000b1"


def batch(conn, mode: str, n: int) -> float:
    """One batch of n request creations under `mode` (none, customer, switchback), rolled back; ms
    per request. The experiment of a mode is committed (started before, stopped after the batch),
    so that no mode leaves dead experiment rows behind for the others."""
    eid = None
    if mode != "none":
        with conn.transaction():
            conn.execute("INSERT INTO staff_members (id, email, name, staff_role) VALUES "
                         "(%s, 'bench-admin@x.example', 'Bench', 'admin') ON CONFLICT DO NOTHING", (STAFF,))
            eid = experiment(conn, mode)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("INSERT INTO plans (code, name, price_minor, currency, duration_minutes) "
                         "VALUES ('bench_plan', 'Bench', 2900, 'usd', 15) ON CONFLICT DO NOTHING")
            ws = conn.execute(SETUP).fetchone()[0]
            conn.execute("INSERT INTO mechanics (workshop_id, name, email, is_available) "
                         "VALUES (%s, 'Bench M', 'bench-m@x.example', TRUE)", (ws,))
            conn.execute(LOOP % {"n": n, "ws": ws})
            return float(conn.execute("SELECT current_setting('bench.ms')").fetchone()[0]) / n
    finally:
        if eid is not None:
            with conn.transaction():
                conn.execute("SELECT set_config('app.staff_id', %s, TRUE)", (STAFF,))
                conn.execute("SELECT stop_routing_experiment(%s, %s, 'bench')", (STAFF, eid))


def hot_path(url: str, n: int, rounds: int, base_url: str | None = None) -> dict:
    """Medians over `rounds` of each mode; the order of the modes rotates every round (no mode
    always first). base_url: a database migrated from the code before experiments (same cluster),
    whose no-experiment path joins the rotation as `base`."""
    modes = ["none", "customer", "switchback"] + (["base"] if base_url else [])
    times: dict[str, list[float]] = {m: [] for m in modes}
    with psycopg.connect(url) as conn, (psycopg.connect(base_url) if base_url else conn) as base:
        for m in modes:  # warm-up: plans cached, pages in memory
            batch(base if m == "base" else conn, "none" if m == "base" else m, n)
        for r in range(rounds):
            for m in modes[r % len(modes):] + modes[:r % len(modes)]:
                times[m].append(batch(base if m == "base" else conn, "none" if m == "base" else m, n))
    med = {k: round(statistics.median(v), 4) for k, v in times.items()}
    out = {"n_per_batch": n, "rounds": rounds, "ms_per_request": med,
           "ratio_customer": round(med["customer"] / med["none"], 3),
           "ratio_switchback": round(med["switchback"] / med["none"], 3)}
    if base_url:
        out["ratio_none_to_base"] = round(med["none"] / med["base"], 3)
    return out


def analysis(url: str) -> dict:
    out = {}
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT to_regprocedure('ssr_private.experiment_stats(text,jsonb)') IS NOT NULL"
                            ).fetchone()[0]:
            return {"skipped": "no PL/Python layer"}
        for unit, units, per in (("switchback", 20000, 50), ("customer", 250000, 4)):
            with conn.transaction(force_rollback=True):
                conn.execute("INSERT INTO staff_members (id, email, name, staff_role) VALUES "
                             "(%s, 'bench-admin@x.example', 'Bench', 'admin') ON CONFLICT DO NOTHING", (STAFF,))
                eid = experiment(conn, unit)
                conn.execute(
                    "INSERT INTO analytics_experiment_units SELECT %s, CASE WHEN g %% 2 = 0 THEN 'control' ELSE 'short' END, "
                    "CASE WHEN %s = 'customer' THEN g::text ELSE 'all' END, "
                    "CASE WHEN %s = 'customer' THEN '-infinity' ELSE to_timestamp(g * 3600) END, "
                    "%s, (%s * (0.5 + random() * 0.4))::int, 0, '{}', '{}', (%s * random() * 0.1)::int, 0, 0, 0, 0, 0, "
                    "0, 0, now() FROM generate_series(1, %s) AS g",
                    (eid, unit, unit, per, per, per, units),
                )
                t0 = time.perf_counter()
                rows = conn.execute("SELECT count(*) FROM ssr_private.experiment_analysis(%s)", (eid,)).fetchone()[0]
                out[unit] = {"units": units, "requests": units * per, "rows": rows,
                             "seconds": round(time.perf_counter() - t0, 2)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="experiments bench phase")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--base-url", help="a database migrated from main before experiments: its path joins the rotation")
    ap.add_argument("--hot-path-only", action="store_true")
    ap.add_argument("--scale", type=float, default=0.05,
                    help="without DATABASE_URL: the bench's own durable cluster, a copy of its dataset at this scale")
    a = ap.parse_args(argv)
    if os.environ.get("DATABASE_URL"):
        out = {"hot_path": hot_path(os.environ["DATABASE_URL"], a.n, a.rounds, a.base_url)}
        if not a.hot_path_only:
            out["analysis_1m"] = analysis(os.environ["DATABASE_URL"])
    else:  # like make bench: the bench's cluster (bench/server.py), a throwaway copy of its dataset
        from bench import cli, server

        srv = server.server_url()
        cli.prepare_dataset(srv, a.scale)
        url, name = cli.work_copy(srv, a.scale)
        try:
            out = {"hot_path": hot_path(url, a.n, a.rounds, a.base_url)}
            if not a.hot_path_only:
                out["analysis_1m"] = analysis(url)
        finally:
            server.drop_database(srv, name)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
