"""The dispatcher's cost (docs/DISPATCH.md): what offers add to fulfillment and accept, as a same-run
ratio against today's path, and the timeout sweep's time per pass at 100,000 live offers.

* fulfillment: ssr_private.fulfill_checkout, one client, the mix of the steady benchmark (half
  broadcast, hybrid, workshop_only); accept: accept_session_request of pending broadcast requests by
  a few mechanics with room. Each is timed with offers as shipped ("offers": the policy read at
  fulfillment, the offer row locked, written and the others rescinded at accept) and on "today's
  path" (the same database with the offer functions made no-ops and the closing trigger disabled:
  broadcast without offer rows, as before offers), in alternating blocks so that a shared machine's
  drift falls on both; the figure is the ratio of the means (goal: at most 1.15). Fulfillment under a
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
SWEEP_GOAL_MS = 50.0
RATIO_GOAL = 1.15


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Paths:
    """Switch one database between offers as shipped and today's path."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.shipped = {sig: conn.execute("SELECT pg_get_functiondef(%s::regprocedure)", (sig,)).fetchone()[0]
                        for sig in NO_OFFERS}

    def today(self) -> None:
        for ddl in NO_OFFERS.values():
            self.conn.execute(ddl)
        self.conn.execute("ALTER TABLE session_requests DISABLE TRIGGER offers_request_closed")

    def offers(self) -> None:
        for ddl in self.shipped.values():
            self.conn.execute(ddl)
        self.conn.execute("ALTER TABLE session_requests ENABLE TRIGGER offers_request_closed")


def _counts(conn) -> tuple[int, int, int]:
    return (conn.execute("SELECT count(*) FROM customers").fetchone()[0],
            conn.execute("SELECT count(*) FROM organizations WHERE status = 'active'").fetchone()[0],
            conn.execute("SELECT count(*) FROM offers").fetchone()[0])


def _fulfill_block(conn, n: int, tag: str, customers: int, workshops: int) -> list[float]:
    out = []
    for i in range(n):
        params = {"i": i, "cs": f"cs_off_{tag}_{i}", "c": 1 + (i * 7919) % customers, "r": (i * 7) % 10,
                  "w": 1 + (i * 104729) % workshops}
        t0 = time.perf_counter()
        conn.execute(FULFILL, params, prepare=True).fetchone()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _accept_block(conn, n: int, tag: str, customers: int, mechanics: list) -> list[float]:
    rids = [r[0] for r in conn.execute(
        "SELECT f.session_request_id FROM generate_series(1, %(n)s) AS i, "
        "LATERAL ssr_private.fulfill_checkout('video15', 'cs_acc_' || %(tag)s || '_' || i, NULL, "
        "md5('bench-c-' || (1 + i %% %(c)s))::uuid, NULL, 2900, 'usd') AS f ORDER BY i",
        {"n": n, "tag": tag, "c": customers}).fetchall()]
    out = []
    for k, rid in enumerate(rids):
        m = mechanics[k % len(mechanics)]
        t0 = time.perf_counter()
        conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(m),))
        conn.execute("SELECT id FROM accept_session_request(%s, %s)", (rid, m), prepare=True).fetchone()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _summary(samples: list[float]) -> dict:
    return {"n": len(samples), "mean_ms": round(statistics.fmean(samples), 3),
            "p50_ms": round(statistics.median(samples), 3)}


def costs(url: str, blocks: int = 4, per_block: int = 150, log=_log) -> dict:
    """Fulfillment and accept, offers vs today's path, alternating blocks; ratios of the means."""
    with psycopg.connect(url, autocommit=True) as conn:
        customers, workshops, _ = _counts(conn)
        mechanics = [r[0] for r in conn.execute(
            "SELECT mechanic_id FROM ssr_private.routing_offerable_mechanics ORDER BY mechanic_id LIMIT 20").fetchall()]
        conn.execute("UPDATE mechanics SET capacity = 100000 WHERE id = ANY(%s)", (mechanics,))
        paths = Paths(conn)
        samples: dict = {"fulfill": {"offers": [], "today": []}, "accept": {"offers": [], "today": []}}
        tag = uuid.uuid4().hex[:6]
        try:
            for b in range(blocks):
                for mode in (("offers", "today") if b % 2 == 0 else ("today", "offers")):
                    paths.offers() if mode == "offers" else paths.today()
                    samples["fulfill"][mode] += _fulfill_block(conn, per_block, f"{tag}{b}{mode}", customers, workshops)
                    samples["accept"][mode] += _accept_block(conn, per_block, f"{tag}{b}{mode}", customers, mechanics)
            paths.offers()
            # for information: fulfillment under a staggered policy (three offer rows per routed request)
            pid = conn.execute("INSERT INTO routing_policies (name, params) VALUES (%s, %s) RETURNING id",
                               (f"bench_staggered_{tag}", '{"distribution_mode": "staggered"}')).fetchone()[0]
            default = conn.execute("SELECT id FROM routing_policies WHERE is_default").fetchone()[0]
            conn.execute("UPDATE routing_policies SET is_default = FALSE WHERE id = %s", (default,))
            conn.execute("UPDATE routing_policies SET is_default = TRUE WHERE id = %s", (pid,))
            staggered = _fulfill_block(conn, per_block, f"{tag}stag", customers, workshops)
            conn.execute("UPDATE routing_policies SET is_default = FALSE WHERE id = %s", (pid,))
            conn.execute("UPDATE routing_policies SET is_default = TRUE WHERE id = %s", (default,))
        finally:
            paths.offers()
        offer_rows = conn.execute("SELECT count(*) FROM offers WHERE outcome = 'accepted'").fetchone()[0]
    if offer_rows < blocks // 2 * per_block:
        raise RuntimeError(f"accepts with offers wrote {offer_rows} accepted offers")
    out: dict = {"blocks": blocks, "per_block": per_block}
    for what in ("fulfill", "accept"):
        s_off, s_today = _summary(samples[what]["offers"]), _summary(samples[what]["today"])
        ratio = round(s_off["mean_ms"] / s_today["mean_ms"], 3)
        out[what] = {"offers": s_off, "today": s_today, "ratio": ratio, "goal": RATIO_GOAL, "met": ratio <= RATIO_GOAL}
        log(f"offers: {what} {s_off['mean_ms']} ms with offers, {s_today['mean_ms']} ms today: ratio {ratio}")
    st = _summary(staggered)
    out["fulfill_staggered"] = dict(st, ratio_to_today=round(st["mean_ms"] / out["fulfill"]["today"]["mean_ms"], 3))
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
           "pass_idle_ms": round(statistics.median(idle), 2), "goal_ms": SWEEP_GOAL_MS}
    out["met"] = out["pass_with_due_ms"] < SWEEP_GOAL_MS
    log(f"offers: sweep at {live_now} live offers: {out['pass_with_due_ms']} ms a pass with {due} due, "
        f"{out['pass_idle_ms']} ms with none")
    return out


def run(url: str, sizes=None, st=None, log=_log) -> dict:
    """The phase: costs, then the sweep (on a work copy: it writes)."""
    per_block = max(50, min(300, (st.iterations if st is not None else 150)))
    return {"costs": costs(url, per_block=per_block, log=log), "sweep": sweep(url, log=log)}


def main(argv: list[str] | None = None) -> int:
    import json
    from pathlib import Path

    from bench import cli, server

    ap = argparse.ArgumentParser(prog="python -m bench.offers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.05, help="dataset scale (default 0.05: 1,000 mechanics)")
    ap.add_argument("--per-block", type=int, default=150, help="calls per block (4 blocks per path)")
    ap.add_argument("--live", type=int, default=100_000, help="live offers for the sweep (default 100,000)")
    ap.add_argument("--output", default="", help="also write the figures here (JSON)")
    a = ap.parse_args(argv)
    srv = server.server_url()
    cli.prepare_dataset(srv, a.scale)
    url, name = cli.work_copy(srv, a.scale)
    try:
        out = {"scale": a.scale, "costs": costs(url, per_block=a.per_block), "sweep": sweep(url, live=a.live)}
    finally:
        server.drop_database(srv, name)
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if a.output:
        Path(a.output).write_text(text + "\n", encoding="utf-8")
    return 0 if out["costs"]["fulfill"]["met"] and out["costs"]["accept"]["met"] and out["sweep"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
