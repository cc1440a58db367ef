#!/usr/bin/env python3
"""The periodic jobs (what cron or a worker does in production): every --interval seconds
sweep_session_requests() (escalate and expire requests) and refresh_analytics() (apply the
queued changes to the rollups the BI views read); every --relay-interval seconds
routing_outbox_relay() (send the committed routing notifications with pg_notify); when
STRIPE_SECRET_KEY is set, the money jobs of tools/refunds.py: the due refunds every
--interval, the reconciliation of Checkout Sessions every --reconcile-every seconds.

    python -m tools.sweeper [--interval 5] [--relay-interval 0.1] [--once]   # DATABASE_URL from the environment

The functions are safe to run concurrently, so several sweepers may run at once.
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


def refresh_analytics_once(url: str) -> int:
    """Apply every queued analytics change (batches of 100,000); returns how many were applied."""
    applied = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            ran, changes, _workshop_days, _routing_days, more = conn.execute(
                "SELECT * FROM refresh_analytics()").fetchone()
            applied += changes
            if not (ran and more):
                return applied


def relay_once(conn: psycopg.Connection) -> int:
    """Send every committed routing notification not sent yet (on an autocommit connection)."""
    sent = 0
    while True:
        n = conn.execute("SELECT routing_outbox_relay()", prepare=True).fetchone()[0]
        sent += n
        if n < 1000:
            return sent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--relay-interval", type=float, default=0.1)
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--reconcile-every", type=float, default=600.0, help="seconds between reconciliations")
    ap.add_argument("--reconcile-hours", type=float, default=48.0, help="window of a reconciliation")
    a = ap.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("sweeper: set DATABASE_URL", file=sys.stderr)
        return 2
    next_sweep = 0.0
    relay_conn = None
    money = None
    if os.environ.get("STRIPE_SECRET_KEY"):
        from tools import refunds

        money = (refunds, refunds.stripe_client_from_env())
    last_reconcile = None
    while True:
        try:
            if relay_conn is None or relay_conn.closed:
                relay_conn = psycopg.connect(url, autocommit=True)
            relay_once(relay_conn)
            if time.monotonic() >= next_sweep:
                escalated, expired = sweep_once(url)
                if escalated or expired:
                    print(f"sweeper: escalated {escalated}, expired {expired}", flush=True)
                refresh_analytics_once(url)
                relay_once(relay_conn)  # what the sweep just announced
                next_sweep = time.monotonic() + a.interval
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
            if relay_conn is not None:
                relay_conn.close()
            relay_conn = None
        except Exception as exc:  # one failing job (e.g. Stripe down) must not stop the others
            print(f"sweeper: a job failed: {exc!r}", file=sys.stderr, flush=True)
        if a.once:
            if relay_conn is not None:
                relay_conn.close()
            return 0
        time.sleep(a.relay_interval)


if __name__ == "__main__":
    sys.exit(main())
