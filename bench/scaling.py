"""Why fulfillment stops scaling with clients, and whether a change fixes it: pgbench runs of the
fulfillment script (bench.measure.FULFILL_SCRIPT, relay running, as in `fulfill`) and of pgbench's
tpcb-like at several client counts, with pg_stat_activity sampled during each run (wait events,
and the lock a waiting backend waits for), and A/B curves: the same runs alternated between two
databases of one cluster (the code before and after a change), so that a machine whose speed
drifts moves both sides alike.

`python -m bench.scaling --help`. Not part of `make bench` (its own figures: bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid

import psycopg

from bench import generate, server
from bench import pgbench as pgb
from bench.measure import FULFILL_SCRIPT, RelayRunning, check_fulfilled
from bench.steady import WaitSampler


def wal_bytes(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        return int(c.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()[0])


def run_fulfill(url: str, sizes: generate.Sizes, clients: int, seconds: float, sample: bool) -> dict:
    tag = f"benchscal{uuid.uuid4().hex[:8]}"
    script = FULFILL_SCRIPT.format(C=sizes.customers, W=sizes.workshops, tag=tag)
    dat = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    w0 = wal_bytes(url)
    sampler = WaitSampler(url, dat, only_app="pgbench", locks=True) if sample else None
    with RelayRunning(url):
        if sampler:
            with sampler:
                res = pgb.run(url, clients=clients, seconds=seconds, script=script, defines={"i": 0})
        else:
            res = pgb.run(url, clients=clients, seconds=seconds, script=script, defines={"i": 0})
    res["wal_kb_per_tx"] = round((wal_bytes(url) - w0) / 1024 / max(1, res["transactions"]), 2)
    check_fulfilled(url, tag, res["transactions"])
    if sampler:
        res["waits"] = sampler.result(top=12)
    return res


def run_tpcb(url: str, clients: int, seconds: float, sample: bool) -> dict:
    dat = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    sampler = WaitSampler(url, dat, only_app="pgbench", locks=True) if sample else None
    if sampler:
        with sampler:
            res = pgb.run(url, clients=clients, seconds=seconds, builtin="tpcb-like")
        res["waits"] = sampler.result(top=12)
    else:
        res = pgb.run(url, clients=clients, seconds=seconds, builtin="tpcb-like")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    ap.add_argument("--server", required=True, help="URL of a database on the cluster (durable settings)")
    ap.add_argument("--db", action="append", required=True,
                    help="a database holding the bench's data (name); give two for an A/B (before, after)")
    ap.add_argument("--scale", type=float, default=1.0, help="the data's scale (for the script's ranges)")
    ap.add_argument("--clients", default="1,2,4,8,16")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=1, help="alternations of the whole A/B/tpcb cycle")
    ap.add_argument("--pgbench-scale", type=int, default=10)
    ap.add_argument("--no-tpcb", action="store_true")
    ap.add_argument("--sample", action="store_true", help="sample wait events during every run")
    ap.add_argument("--output", default="")
    a = ap.parse_args(argv)
    sizes = generate.Sizes.for_scale(a.scale)
    tpcb_url = None if a.no_tpcb else pgb.init(a.server, a.pgbench_scale, log=lambda m: print(m, file=sys.stderr))
    urls = {d: server.url_for(a.server, d) for d in a.db}
    out: dict = {"settings": dict(vars(a), durability=server.durability(a.server)), "runs": []}
    for rnd in range(a.rounds):
        for n in [int(x) for x in a.clients.split(",")]:
            order = list(urls) if rnd % 2 == 0 else list(reversed(urls))
            if tpcb_url:
                r = run_tpcb(tpcb_url, n, a.seconds, a.sample)
                out["runs"].append(dict(r, db="tpcb-like", clients=n, round=rnd, at=time.time()))
                print(f"round {rnd} c={n:>2} tpcb-like      {r['tps']:8.0f} tps p99 {r['p99_ms']:.2f} ms",
                      file=sys.stderr, flush=True)
            for d in order:
                r = run_fulfill(urls[d], sizes, n, a.seconds, a.sample)
                out["runs"].append(dict(r, db=d, clients=n, round=rnd, at=time.time()))
                print(f"round {rnd} c={n:>2} {d:<14} {r['tps']:8.0f} tps p99 {r['p99_ms']:.2f} ms "
                      f"wal {r['wal_kb_per_tx']} KB" + (f" {({w['event']: w['share'] for w in r['waits']['top']})}" if a.sample else ""),
                      file=sys.stderr, flush=True)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
