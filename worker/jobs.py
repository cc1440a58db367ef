#!/usr/bin/env python3
"""The periodic jobs the worker (worker/supervisor.py) runs, each a plain function of a connection:
`sweep` (ssr_private.sweep_session_requests(): escalate and expire requests) and `refresh_analytics` (apply
the queued changes to the rollups the BI views read) every 5 s, `relay` (routing_outbox_relay():
send the committed routing notifications with pg_notify) every 0.1 s. The functions are safe to
run concurrently, so several workers may run at once.

    python -m worker.jobs [--interval 5] [--relay-interval 0.1] [--once]
        # the worker with these jobs (DATABASE_URL from the environment)
"""

from __future__ import annotations

import sys

import psycopg


def sweep(conn: psycopg.Connection) -> str | None:
    """The job: one call; a short description when it changed something."""
    escalated, expired = conn.execute("SELECT * FROM ssr_private.sweep_session_requests()").fetchone()
    return f"escalated {escalated}, expired {expired}" if escalated or expired else None


def sweep_once(url: str) -> tuple[int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        escalated, expired = conn.execute("SELECT * FROM ssr_private.sweep_session_requests()").fetchone()
    return escalated, expired


def refresh_analytics_once(url: str) -> int:
    """Apply every queued analytics change (batches of 100,000); returns how many were applied."""
    applied = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            ran, changes, _workshop_days, _routing_days, more = conn.execute(
                "SELECT * FROM ssr_private.refresh_analytics()").fetchone()
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


def refresh_analytics(conn: psycopg.Connection) -> str | None:
    """The job: apply every queued analytics change; a short description when there were some."""
    applied = 0
    while True:
        ran, changes, _workshop_days, _routing_days, more = conn.execute("SELECT * FROM ssr_private.refresh_analytics()").fetchone()
        applied += changes
        if not (ran and more):
            return f"applied {applied} analytics changes" if applied else None


def relay(conn: psycopg.Connection) -> str | None:
    """The job: send every committed routing notification not sent yet."""
    sent = relay_once(conn)
    return f"relayed {sent} notifications" if sent else None


def main(argv: list[str] | None = None) -> int:
    from worker.supervisor import main as worker_main

    args = list(sys.argv[1:] if argv is None else argv)
    for flag, jobs in (("--interval", ("sweep", "refresh_analytics")), ("--relay-interval", ("relay",))):
        if flag in args:
            i = args.index(flag)
            args[i : i + 2] = [x for job in jobs for x in ("--every", f"{job}={args[i + 1]}")]
    return worker_main(args)


if __name__ == "__main__":
    sys.exit(main())
