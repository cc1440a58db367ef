#!/usr/bin/env python3
"""The periodic jobs, every few seconds (what cron or a worker does in production):
sweep_session_requests() (escalate and expire requests) and refresh_analytics() (apply the
queued changes to the rollups the BI views read).

    python -m tools.sweeper [--interval 5] [--once]      # DATABASE_URL from the environment

Both functions are safe to run concurrently, so several sweepers may run at once.
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--once", action="store_true")
    a = ap.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("sweeper: set DATABASE_URL", file=sys.stderr)
        return 2
    while True:
        try:
            escalated, expired = sweep_once(url)
            if escalated or expired:
                print(f"sweeper: escalated {escalated}, expired {expired}", flush=True)
            refresh_analytics_once(url)
        except psycopg.OperationalError as exc:  # the server restarts: try again next tick
            print(f"sweeper: {exc}".strip(), file=sys.stderr, flush=True)
        if a.once:
            return 0
        time.sleep(a.interval)


if __name__ == "__main__":
    sys.exit(main())
