#!/usr/bin/env python3
"""The periodic jobs (what cron or a worker does in production): every --interval seconds
sweep_session_requests() (escalate and expire requests) and refresh_analytics() (apply the
queued changes to the rollups the BI views read); every --relay-interval seconds
routing_outbox_relay() (send the committed routing notifications with pg_notify).

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
    a = ap.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("sweeper: set DATABASE_URL", file=sys.stderr)
        return 2
    next_sweep = 0.0
    relay_conn = None
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
        except psycopg.OperationalError as exc:  # the server restarts: try again next tick
            print(f"sweeper: {exc}".strip(), file=sys.stderr, flush=True)
            if relay_conn is not None:
                relay_conn.close()
            relay_conn = None
        if a.once:
            if relay_conn is not None:
                relay_conn.close()
            return 0
        time.sleep(a.relay_interval)


if __name__ == "__main__":
    sys.exit(main())
