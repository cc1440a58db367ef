"""The dispatcher's cost (docs/DISPATCH.md): what offers add to fulfillment and accept, as a same-run
ratio against today's path, and the timeout sweep's time per pass at 100,000 live offers.

* fulfillment: ssr_private.fulfill_checkout, one client, the mix of the steady benchmark (half
  broadcast, hybrid, workshop_only); accept: accept_session_request of pending broadcast requests by
  a mechanic with room. Each is timed with offers as shipped ("offers": the mode read at
  fulfillment, the offer row written at accept) and on "today's path" (a twin copy of the database
  with the offer functions made no-ops and the closing trigger disabled: broadcast without offer
  rows, as before offers), call by call in turn, so that a shared machine's load falls on both alike;
  the figure is the ratio of the medians (goal: at most 1.15; the ratio of the means beside it). Fulfillment under a
  staggered policy (three offer rows per request) is measured too, for information.
* sweep: 100,000 live offers (2,000 requests x 50 mechanics), then ssr_private.offer_sweep() passes
  with 1,000 offers due each, and passes with none due (goal: under 50 ms a pass).

A phase of `python -m bench --only offers` (on the run's work copy), or alone:
`python -m bench.offers --scale 0.05` (its own dataset and work copy on the bench cluster)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

FULFILL = """
SELECT session_request_id FROM ssr_private.fulfill_checkout(
    (ARRAY['video15', 'video30', 'diag45'])[1 + %(i)s %% 3], %(cs)s, NULL, md5('bench-c-' || %(c)s)::uuid, NULL,
    (ARRAY[2900, 4900, 6900])[1 + %(i)s %% 3], 'usd', NULL,
    CASE WHEN %(r)s < 5 THEN NULL ELSE md5('bench-w-' || %(w)s)::uuid END,
    CASE WHEN %(r)s < 5 THEN 'broadcast' WHEN %(r)s < 8 THEN 'hybrid' ELSE 'workshop_only' END)
"""
# Today's path: what the offers add, made no-ops (restored from their own definitions afterwards).
NO_OFFERS = {
    "ssr_private.offer_dispatch_start(session_requests,timestamp with time zone)": (
        "CREATE OR REPLACE FUNCTION ssr_private.offer_dispatch_start(p_request session_requests, p_now timestamptz) "
        "RETURNS session_requests LANGUAGE sql AS $$ SELECT p_request $$"),
    "ssr_private.offer_record(session_requests,uuid,uuid,text,text,timestamp with time zone)": (
        "CREATE OR REPLACE FUNCTION ssr_private.offer_record(p_request session_requests, p_mechanic_id uuid, "
        "p_workshop_id uuid, p_outcome text, p_reason text, p_now timestamptz) RETURNS void LANGUAGE sql AS $$ $$"),
}
WARM = 10  # calls of each path first, unmeasured (plans, caches)
SWEEP_GOAL_MS = 50.0
RATIO_GOAL = 1.15


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def today_path(conn: psycopg.Connection) -> None:
    """Make this database today's path: the offer functions no-ops, the closing trigger off."""
    for ddl in NO_OFFERS.values():
        conn.execute(ddl)
    conn.execute("ALTER TABLE session_requests DISABLE TRIGGER offers_request_closed")


def twin(url: str, suffix: str = "_today") -> tuple[str, str, str]:
    """A copy of the database of url (same data, same files): (its url, its name, the server's url)."""
    params = conninfo_to_dict(url)
    name = params["dbname"] + suffix
    srv = make_conninfo(**dict(params, dbname="postgres"))
    with psycopg.connect(srv, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{params["dbname"]}" STRATEGY FILE_COPY')
    return make_conninfo(**dict(params, dbname=name)), name, srv


def _counts(conn) -> tuple[int, int]:
    return (conn.execute("SELECT count(*) FROM customers").fetchone()[0],
            conn.execute("SELECT count(*) FROM organizations WHERE status = 'active'").fetchone()[0])


def _timed(conn, sql: str, params) -> float:
    t0 = time.perf_counter()
    conn.execute(sql, params, prepare=True).fetchone()
    return (time.perf_counter() - t0) * 1000


def _pending(conn, n: int, tag: str, customers: int) -> list:
    return [r[0] for r in conn.execute(
        "SELECT f.session_request_id FROM generate_series(1, %(n)s) AS i, "
        "LATERAL ssr_private.fulfill_checkout('video15', 'cs_acc_' || %(tag)s || '_' || i, NULL, "
        "md5('bench-c-' || (1 + i %% %(c)s))::uuid, NULL, 2900, 'usd') AS f ORDER BY i",
        {"n": n, "tag": tag, "c": customers}).fetchall()]


def _summary(samples: list[float]) -> dict:
    return {"n": len(samples), "mean_ms": round(statistics.fmean(samples), 3),
            "p50_ms": round(statistics.median(samples), 3)}


def costs(url: str, calls: int = 600, log=_log) -> dict:
    """Fulfillment and accept with offers (this database) and on today's path (a twin copy of it),
    call by call in turn, so that a shared machine's load falls on both alike; ratios of the medians
    (the goal) and of the means."""
    turl, tname, srv = twin(url)
    samples: dict = {"fulfill": {"offers": [], "today": []}, "accept": {"offers": [], "today": []}}
    tag = uuid.uuid4().hex[:6]
    try:
        with psycopg.connect(url, autocommit=True) as a, psycopg.connect(turl, autocommit=True) as b:
            today_path(b)
            offers_before = b.execute("SELECT count(*) FROM offers").fetchone()[0]
            customers, workshops = _counts(a)
            conns = {"offers": a, "today": b}
            mechanics = [r[0] for r in a.execute(
                "SELECT mechanic_id FROM ssr_private.routing_offerable_mechanics ORDER BY mechanic_id LIMIT 20")]
            for c in conns.values():
                c.execute("UPDATE mechanics SET capacity = 100000 WHERE id = ANY(%s)", (mechanics,))
            for i in range(calls + WARM):
                params = {"i": i, "cs": f"cs_off_{tag}_{i}", "c": 1 + (i * 7919) % customers, "r": (i * 7) % 10,
                          "w": 1 + (i * 104729) % workshops}
                for mode in (("offers", "today") if i % 2 == 0 else ("today", "offers")):
                    ms = _timed(conns[mode], FULFILL, params)
                    if i >= WARM:
                        samples["fulfill"][mode].append(ms)
            pending = {mode: _pending(c, calls + WARM, tag, customers) for mode, c in conns.items()}
            for c in conns.values():
                c.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(mechanics[0]),))
            for k in range(calls + WARM):
                m = mechanics[0]
                for mode in (("offers", "today") if k % 2 == 0 else ("today", "offers")):
                    ms = _timed(conns[mode], "SELECT id FROM accept_session_request(%s, %s)", (pending[mode][k], m))
                    if k >= WARM:
                        samples["accept"][mode].append(ms)
            accepted = a.execute("SELECT count(*) FROM offers WHERE outcome = 'accepted'").fetchone()[0]
            if accepted < calls + WARM:
                raise RuntimeError(f"accepts with offers wrote {accepted} accepted offers")
            if b.execute("SELECT count(*) FROM offers").fetchone()[0] != offers_before:
                raise RuntimeError("today's path wrote offer rows")
            # for information: fulfillment under a staggered policy (k = 3 offer rows per request)
            pid = a.execute("INSERT INTO routing_policies (name, params) VALUES (%s, %s) RETURNING id",
                            (f"bench_staggered_{tag}", '{"distribution_mode": "staggered"}')).fetchone()[0]
            default = a.execute("SELECT id FROM routing_policies WHERE is_default").fetchone()[0]
            a.execute("UPDATE routing_policies SET is_default = FALSE WHERE id = %s", (default,))
            a.execute("UPDATE routing_policies SET is_default = TRUE WHERE id = %s", (pid,))
            staggered = []
            for i in range(calls // 4 + WARM):
                params = {"i": i, "cs": f"cs_stg_{tag}_{i}", "c": 1 + (i * 7919) % customers, "r": (i * 7) % 10,
                          "w": 1 + (i * 104729) % workshops}
                ms = _timed(a, FULFILL, params)
                if i >= WARM:
                    staggered.append(ms)
            a.execute("UPDATE routing_policies SET is_default = FALSE WHERE id = %s", (pid,))
            a.execute("UPDATE routing_policies SET is_default = TRUE WHERE id = %s", (default,))
    finally:
        with psycopg.connect(srv, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{tname}"')
    out: dict = {"calls": calls}
    for what in ("fulfill", "accept"):
        s_off, s_today = _summary(samples[what]["offers"]), _summary(samples[what]["today"])
        ratio = round(s_off["p50_ms"] / s_today["p50_ms"], 3)
        out[what] = {"offers": s_off, "today": s_today, "ratio": ratio,
                     "ratio_of_means": round(s_off["mean_ms"] / s_today["mean_ms"], 3),
                     "goal": RATIO_GOAL, "met": ratio <= RATIO_GOAL}
        log(f"offers: {what} p50 {s_off['p50_ms']} ms with offers, {s_today['p50_ms']} ms today: ratio {ratio} "
            f"(means {out[what]['ratio_of_means']})")
    st = _summary(staggered)
    out["fulfill_staggered"] = dict(st, ratio_to_today=round(st["p50_ms"] / out["fulfill"]["today"]["p50_ms"], 3))
    return out


def sweep(url: str, live: int = 100_000, due: int = 1_000, passes: int = 7, log=_log) -> dict:
    """The timeout sweep's time per pass with `live` live offers, `due` of them due each pass."""
    per_request = 50
    n_requests = live // per_request
    with psycopg.connect(url, autocommit=True) as conn:
        customers = _counts(conn)[0]
        tag = uuid.uuid4().hex[:6]
        rids = [r[0] for r in conn.execute(
            "SELECT f.session_request_id FROM generate_series(1, %(n)s) AS i, "
            "LATERAL ssr_private.fulfill_checkout('video15', 'cs_swp_' || %(tag)s || '_' || i, NULL, "
            "md5('bench-c-' || (1 + i %% %(c)s))::uuid, NULL, 2900, 'usd') AS f",
            {"n": n_requests, "tag": tag, "c": customers}).fetchall()]
        mechanics = [r[0] for r in conn.execute(
            "SELECT mechanic_id FROM ssr_private.routing_offerable_mechanics ORDER BY mechanic_id DESC LIMIT %s",
            (per_request,)).fetchall()]
        conn.execute(
            "INSERT INTO offers (session_request_id, mechanic_id, tier, score, wave, stage, offered_at, expires_at) "
            "SELECT r, m, 'open', 50, 0, 'wave', now(), now() + interval '1 hour' + random() * interval '1 hour' "
            "FROM unnest(%s::uuid[]) AS r, unnest(%s::uuid[]) AS m", (rids, mechanics))
        conn.execute("VACUUM ANALYZE offers")
        live_now = conn.execute("SELECT count(*) FROM offers WHERE outcome IS NULL").fetchone()[0]
        conn.execute("SELECT * FROM ssr_private.offer_sweep()")  # warm: plans and caches, unmeasured
        busy, idle = [], []
        for _ in range(passes):
            conn.execute(
                "UPDATE offers SET expires_at = now() - interval '1 ms' WHERE id IN ("
                "SELECT id FROM offers WHERE outcome IS NULL ORDER BY expires_at LIMIT %s)", (due,))
            t0 = time.perf_counter()
            timed_out = conn.execute("SELECT timed_out FROM ssr_private.offer_sweep()").fetchone()[0]
            busy.append((time.perf_counter() - t0) * 1000)
            if timed_out != due:
                raise RuntimeError(f"offer_sweep timed out {timed_out} offers, {due} were due")
            t0 = time.perf_counter()
            conn.execute("SELECT timed_out FROM ssr_private.offer_sweep()").fetchone()
            idle.append((time.perf_counter() - t0) * 1000)
    out = {"live_offers": live_now, "due_per_pass": due, "passes": passes,
           "pass_with_due_ms": round(statistics.median(busy), 2), "pass_with_due_max_ms": round(max(busy), 2),
           "pass_idle_ms": round(statistics.median(idle), 2), "goal_ms": SWEEP_GOAL_MS,
           "passes_ms": [round(x, 1) for x in busy]}
    out["met"] = out["pass_with_due_ms"] < SWEEP_GOAL_MS
    log(f"offers: sweep at {live_now} live offers: {out['pass_with_due_ms']} ms a pass with {due} due, "
        f"{out['pass_idle_ms']} ms with none")
    return out


def run(url: str, sizes=None, st=None, log=_log) -> dict:
    """The phase: the sweep, then the costs (on a work copy: it writes)."""
    calls = max(200, min(2000, 3 * (st.iterations if st is not None else 200)))
    swept = sweep(url, log=log)  # first: the costs' staggered requests would add waves to its passes
    return {"sweep": swept, "costs": costs(url, calls=calls, log=log)}


def main(argv: list[str] | None = None) -> int:
    import json
    from pathlib import Path

    from bench import cli, server

    ap = argparse.ArgumentParser(prog="python -m bench.offers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.05, help="dataset scale (default 0.05: 1,000 mechanics)")
    ap.add_argument("--calls", type=int, default=600, help="fulfillments and accepts per path (default 600)")
    ap.add_argument("--live", type=int, default=100_000, help="live offers for the sweep (default 100,000)")
    ap.add_argument("--output", default="", help="also write the figures here (JSON)")
    a = ap.parse_args(argv)
    srv = server.server_url()
    cli.prepare_dataset(srv, a.scale)
    url, name = cli.work_copy(srv, a.scale)
    try:
        swept = sweep(url, live=a.live)  # first: the costs' staggered requests would add waves to its passes
        out = {"scale": a.scale, "sweep": swept, "costs": costs(url, calls=a.calls)}
    finally:
        server.drop_database(srv, name)
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if a.output:
        Path(a.output).write_text(text + "\n", encoding="utf-8")
    return 0 if out["costs"]["fulfill"]["met"] and out["costs"]["accept"]["met"] and out["sweep"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
