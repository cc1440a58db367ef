#!/usr/bin/env python3
"""Run sweep_session_requests() every few seconds (what cron or a worker does in production),
and, when STRIPE_SECRET_KEY is set, the money jobs of tools/refunds.py: the due refunds every
tick, the reconciliation of Checkout Sessions every --reconcile-every seconds.

    python -m tools.sweeper [--interval 5] [--once]      # DATABASE_URL from the environment

Every job is safe to run concurrently, so several sweepers may run at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg


def sweep_once(url: str) -> tuple[int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        escalated, expired = conn.execute("SELECT * FROM sweep_session_requests()").fetchone()
    return escalated, expired


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--reconcile-every", type=float, default=600.0, help="seconds between reconciliations")
    ap.add_argument("--reconcile-hours", type=float, default=48.0, help="window of a reconciliation")
    a = ap.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("sweeper: set DATABASE_URL", file=sys.stderr)
        return 2
    money = None
    if os.environ.get("STRIPE_SECRET_KEY"):
        from tools import refunds

        money = (refunds, refunds.stripe_client_from_env())
    last_reconcile = None
    while True:
        try:
            escalated, expired = sweep_once(url)
            if escalated or expired:
                print(f"sweeper: escalated {escalated}, expired {expired}", flush=True)
            if money is not None:
                jobs, client = money
                counts = jobs.process_due_refunds(url, client)
                if any(counts.values()):
                    print("sweeper: refunds " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
                if last_reconcile is None or time.monotonic() - last_reconcile >= a.reconcile_every:
                    last_reconcile = time.monotonic()
                    run = jobs.reconcile(url, client, a.reconcile_hours)
                    if run["fulfilled"] or run["problems"] or run["error"]:
                        print(f"sweeper: reconcile run {run['id']}: {run['fulfilled']} fulfilled, "
                              f"{run['problems']} problems, error {run['error']}", flush=True)
        except psycopg.OperationalError as exc:  # the server restarts: try again next tick
            print(f"sweeper: {exc}".strip(), file=sys.stderr, flush=True)
        except Exception as exc:  # one failing job (e.g. Stripe down) must not stop the others
            print(f"sweeper: a job failed: {exc!r}", file=sys.stderr, flush=True)
        if a.once:
            return 0
        time.sleep(a.interval)


if __name__ == "__main__":
    sys.exit(main())
