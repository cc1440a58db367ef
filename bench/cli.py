"""`python -m bench [--scale S]`: generate (or reuse) the data, measure, print, write bench/results.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import psycopg

from bench import EXIT_WRONG_RESULT, WrongResult, e2e, generate, goals, live_sse, measure, report, server, steady
from bench import offers as dispatch_offers
from bench import pgbench as pgb
from bench.measure import Settings, Skip

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepare_dataset(srv: str, scale: float) -> tuple[str, dict]:
    """Migrate the database of this scale and fill it, unless it already holds this scale's data."""
    sys.path.insert(0, str(ROOT))
    from tools.migrate import MigrationError, migrate

    name = server.db_name_for_scale(scale)
    url = server.ensure_database(srv, name)
    try:
        applied = migrate(url)
    except MigrationError as exc:
        log(f"data x{scale:g}: {exc}; recreating the database")
        server.drop_database(srv, name)
        url = server.ensure_database(srv, name)
        applied = migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        reusable = generate.is_reusable(conn, scale)
        stored = generate.stored_dataset(conn)
    if reusable:
        if applied:
            # Repeatable objects changed (functions, views, triggers): aggregates may need a recount.
            with psycopg.connect(url, autocommit=True) as conn:
                for schema, fn, kind in generate.recompute_functions(conn):
                    conn.execute(f'CALL "{schema}"."{fn}"()' if kind == "p" else f'SELECT "{schema}"."{fn}"()')
        log(f"data x{scale:g}: reusing {name} (generated in {stored['seconds']:.1f}s)")
        return url, dict(stored["counts"], reused=True)
    if stored is not None or has_rows(url):
        server.drop_database(srv, name)
        url = server.ensure_database(srv, name)
        migrate(url)
    info = generate.generate(url, scale, log=log)
    return url, dict(info["counts"], reused=False, seconds=info["seconds"], phases=info["phases"])


def has_rows(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM sessions)").fetchone()[0])


def work_copy(srv: str, scale: float) -> tuple[str, str]:
    """A throw-away copy of the dataset for the measurements that write (the dataset stays reusable)."""
    src = server.db_name_for_scale(scale)
    name = src + "_run"
    server.drop_database(srv, name)
    with psycopg.connect(server.url_for(srv, "postgres"), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{src}" STRATEGY FILE_COPY')
    return server.url_for(srv, name), name


def machine_info(url: str) -> dict:
    mem = ""
    cpu = platform.processor()
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("MemTotal"))
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except (OSError, StopIteration):
        pass
    with psycopg.connect(url, autocommit=True) as conn:
        pg = conn.execute("SELECT version()").fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            (list(server.SETTINGS_RECORDED),)).fetchall())
    try:
        import gunicorn
        gver = gunicorn.__version__
    except ImportError:
        gver = None
    return {
        "machine": {"nproc": os.cpu_count(), "memory": mem, "cpu": cpu, "platform": platform.platform()},
        "versions": {"postgres": pg, "python": platform.python_version(), "psycopg": psycopg.__version__,
                     "pgbench": pgb.version(), "gunicorn": gver},
        "server_settings": settings,
    }


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("SCALE") or 1.0),
                    help="data size: 1 = 2,000 workshops, 20,000 mechanics, 1,000,000 sessions (default 1)")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS") or 10),
                    help="duration of each pgbench run (env BENCH_SECONDS, default 10)")
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS") or 3),
                    help="repetitions; every figure is their median (default 3)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    ap.add_argument("--iterations", type=int, default=int(os.environ.get("BENCH_ITERATIONS") or 200),
                    help="calls per latency repetition (default 200)")
    ap.add_argument("--curve", default=os.environ.get("BENCH_CURVE") or ",".join(map(str, steady.CURVE_CLIENTS)),
                    help="client counts of the concurrency curve (fulfill, accept; env BENCH_CURVE, default 1,2,4,8,16)")
    ap.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP") or 0),
                    help="seconds of the unmeasured run before each measured phase (default: seconds / 5, 1 to 3 s)")
    ap.add_argument("--only", default="", help="comma list of: ceiling,fulfill,accept,capacity,routing,directory,"
                                               "analytics,plpython,offers,e2e,freshness,live,bulkload,indexes (default all; "
                                               "accept or offers also measure capacity)")
    ap.add_argument("--output", default=str(RESULTS), help="results file (default bench/results.json)")
    a = ap.parse_args(argv)
    if a.scale <= 0 or a.reps < 1 or a.clients < 2 or a.seconds <= 0 or a.warmup < 0:
        ap.error("scale and seconds must be > 0, reps >= 1, clients >= 2, warmup >= 0")
    try:
        a.curve = tuple(sorted({int(x) for x in a.curve.split(",") if x.strip()}))
    except ValueError:
        ap.error("--curve: a comma list of client counts")
    if not a.curve or min(a.curve) < 1:
        ap.error("--curve: client counts >= 1")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    t_start = time.perf_counter()
    st = Settings(clients=a.clients, seconds=a.seconds, reps=a.reps, iterations=a.iterations,
                  e2e_events=int(os.environ.get("BENCH_E2E_EVENTS") or Settings.e2e_events))
    if a.warmup:
        st.extra["warmup_s"] = a.warmup
    # pgbench's scale at least the curve's most clients (its branches: see Settings.pgbench_scale)
    st.pgbench_scale = max(st.pgbench_scale, max(a.curve), a.clients)
    only = {x.strip() for x in a.only.split(",") if x.strip()}

    def want(name: str) -> bool:
        # the cost of capacity in the rule belongs to both accept and offers
        return not only or name in only or (name == "capacity" and bool(only & {"accept", "offers"}))

    srv = server.server_url()
    durable = server.ensure_durable(srv, dedicated=not os.environ.get("BENCH_DATABASE_URL"), log=log)
    scales = [a.scale / 100, a.scale / 10, a.scale]
    results: dict = {
        "settings": {"scale": a.scale, "scales": scales, "clients": a.clients, "seconds": a.seconds, "reps": a.reps,
                     "iterations": a.iterations, "pgbench_scale": st.pgbench_scale,
                     "accept_requests": st.accept_requests, "e2e_events": st.e2e_events,
                     "curve_clients": list(a.curve), "warmup_s": steady.warmup_seconds(st),
                     "wait_sample_interval_s": steady.SAMPLE_INTERVAL},
        "data": {}, "figures": {}, "skipped": {}, "wrong": [],
        # The server's settings for every measurement of this run (project and pgbench alike).
        "durability": durable,
    }
    urls = {}
    for s in scales:
        t0 = time.perf_counter()
        urls[s], info = prepare_dataset(srv, s)
        info["prepare_s"] = round(time.perf_counter() - t0, 1)
        results["data"][f"x{s:g}"] = dict(info, sizes=generate.sizes_dict(s))
    main_url = urls[a.scale]
    results.update(machine_info(main_url))
    sizes = generate.Sizes.for_scale(a.scale)
    figs = results["figures"]

    def attempt(name: str, fn, *args):
        if name != "floor" and not want(name.split(".")[0]):
            return None
        log(f"measuring {name} ...")
        t0 = time.perf_counter()
        try:
            out = fn(*args)
        except Skip as exc:
            results["skipped"][name] = str(exc)
            log(f"  skipped: {exc}")
            return None
        except WrongResult as exc:
            results["wrong"].append(f"{name}: {exc}")
            log("\n" + "!" * 78 + f"\n!! WRONG RESULT in {name}: {exc}\n" + "!" * 78 + "\n")
            return None
        except Exception as exc:
            results["skipped"][name] = f"error: {exc}".splitlines()[0]
            log(f"  failed: {exc}")
            traceback.print_exc(file=sys.stderr)
            return None
        log(f"  done in {time.perf_counter() - t0:.1f}s")
        return out

    figs["select1"] = attempt("floor", measure.select1_floor, main_url, st)
    ceiling = attempt("ceiling", measure.ceiling, srv, st, log)
    figs["pgbench"] = ceiling
    work_url, work_name = None, None
    if any(want(x) for x in ("fulfill", "accept", "capacity", "indexes", "e2e", "live", "plpython", "offers", "bulkload",
                             "freshness")):
        work_url, work_name = work_copy(srv, a.scale)
    try:
        if work_url:
            tpcb_url = pgb.init(srv, st.pgbench_scale, log=log) if want("fulfill") else None
            curve = attempt("fulfill", steady.fulfill_curve, work_url, tpcb_url, sizes, st, a.curve, log)
            figs["fulfill_curve"] = curve
            figs["fulfill_checkout"] = steady.point_at(curve, st.clients)
            figs["accept_contention"] = attempt("accept", measure.accept_contention, work_url, sizes, st)
            figs["accept_curve"] = attempt("accept.curve", steady.accept_curve, work_url, sizes, st, a.curve,
                                           (curve or {}).get("clients"), log)
            figs["capacity_cost"] = attempt("capacity", measure.capacity_cost, work_url, sizes, st)
            figs["note_indexes"] = attempt("indexes", measure.note_indexes_cost, work_url, sizes, st)
        for s in scales:
            key = f"x{s:g}"
            figs.setdefault("routing", {})[key] = attempt(f"routing.{key}", measure.routing, urls[s], st)
            figs.setdefault("routing_page", {})[key] = attempt(f"routing.page.{key}", measure.routing_page, urls[s], st)
            figs.setdefault("directory", {})[key] = attempt(f"directory.{key}", measure.directory, urls[s], st)
            figs.setdefault("offers_by_scale", {})[key] = attempt(f"offers.{key}", measure.offers, urls[s], st)
        figs["analytics"] = attempt("analytics", measure.analytics, main_url, st)
        # On the work copy: explain_routing needs requests routed by the functions (with an audit trail).
        figs["plpython"] = attempt("plpython", measure.plpython_cost, work_url or main_url, st)
        if work_url:
            figs["mechanic_offers"] = attempt("offers", measure.offers, work_url, st)
            # the dispatcher: offers' cost on fulfillment and accept, the timeout sweep (bench/offers.py)
            figs["dispatch_offers"] = attempt("offers.dispatch", dispatch_offers.run, work_url, sizes, st, log)
            figs["e2e_webhooks"] = attempt("e2e", e2e.run, work_url, sizes, st, log)
            figs["analytics_freshness"] = attempt("freshness", measure.freshness, work_url, sizes, st, log)
            figs["live_offers"] = attempt("live", live_sse.run, work_url, sizes, st, log)
            figs["bulk_load"] = attempt("bulkload", measure.bulk_load, work_url, sizes, st)
    finally:
        if work_name:
            server.drop_database(srv, work_name)
    results["durability_after"] = server.durability(main_url)
    results["total_seconds"] = round(time.perf_counter() - t_start, 1)
    results["goals"] = goals.evaluate(results)
    try:
        table = report.render(results)
    except Exception:  # the figures are kept even if the table cannot be printed
        table = "(the table could not be rendered:\n" + traceback.format_exc() + ")"
    results["table"] = table
    Path(a.output).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(table)
    print(f"\nwritten: {a.output} (total {results['total_seconds']:.0f}s)")
    unmet = [g for g in results["goals"] if g["met"] == "no"]
    if unmet:
        print("goals not met: " + "; ".join(f"{g['goal']} ({g['figure_text']})" for g in unmet))
    regressions = (figs.get("capacity_cost") or {}).get("regression")
    if regressions:
        print("\n!! REGRESSION: capacity in the rule costs more than "
              f"{(measure.CAPACITY_LIMIT - 1) * 100:.0f} % ({', '.join(regressions)}); see capacity_cost in "
              f"{a.output}", file=sys.stderr)
    if results["skipped"]:
        print("skipped: " + "; ".join(f"{k}: {v}" for k, v in results["skipped"].items()))
    if results["wrong"]:
        print("\n" + "!" * 78, file=sys.stderr)
        for w in results["wrong"]:
            print(f"!! WRONG RESULT: {w}", file=sys.stderr)
        print("!" * 78, file=sys.stderr)
        return EXIT_WRONG_RESULT
    return 0
