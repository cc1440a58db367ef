#!/usr/bin/env python3
"""The sweep job: `sweep_session_requests()` escalates hybrid requests whose window passed and
expires overdue ones. The worker (tools/worker.py) runs it every 5 s; it is safe to run
concurrently, so several workers may run at once.

    python -m tools.sweeper [--once] [--interval 5]    # the worker with the sweep job only
"""

from __future__ import annotations

import sys

import psycopg


def sweep(conn: psycopg.Connection) -> str | None:
    """The job: one call; a short description when it changed something."""
    escalated, expired = conn.execute("SELECT * FROM sweep_session_requests()").fetchone()
    return f"escalated {escalated}, expired {expired}" if escalated or expired else None


def sweep_once(url: str) -> tuple[int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        escalated, expired = conn.execute("SELECT * FROM sweep_session_requests()").fetchone()
    return escalated, expired


def main(argv: list[str] | None = None) -> int:
    from tools.worker import main as worker_main

    args = list(sys.argv[1:] if argv is None else argv)
    if "--interval" in args:
        i = args.index("--interval")
        args[i : i + 2] = ["--every", f"sweep={args[i + 1]}"]
    return worker_main(["--only", "sweep", *args])


if __name__ == "__main__":
    sys.exit(main())
