#!/usr/bin/env python3
"""The background worker: named periodic jobs, each a plain function of a database connection.

    python -m worker.supervisor [--once] [--only NAME ...] [--every NAME=SECONDS ...]
    python -m worker.supervisor --supervise [...]   # what `make run` starts: restarts the worker if it dies

WORKER_DATABASE_URL from the environment (the worker's login ssr_worker, which executes the job
functions and nothing else; unset: DATABASE_URL, for a DBA who runs it with one login).
A job is `fn(conn) -> result` (a psycopg connection in autocommit, under WORKER_STATEMENT_TIMEOUT_MS
and WORKER_LOCK_TIMEOUT_MS); a result other than None/0/empty is logged. A job that raises (any
exception: the database down, a bug, a timeout) is logged with its traceback and retried after a
capped exponential backoff (1 s, 2 s, 4 s, ... up to --max-backoff, 60 s by default), then at its
interval again once it succeeds; the other jobs go on meanwhile. Only SIGTERM/SIGINT stop the
worker.

With --supervise, a small supervisor runs the worker as a child process and starts it again (after
a capped backoff) whenever it exits or is killed, so a crash of the worker itself loses nothing
but the time to restart; SIGTERM/SIGINT to the supervisor stop both.

Jobs are listed in JOBS below; add one as a plain function and a `Job(...)` line.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from worker import ranking
from worker.jobs import offers, refresh_analytics, refresh_experiment_results, relay, sweep

log = logging.getLogger("worker")


@dataclass
class Job:
    name: str
    fn: Callable[[psycopg.Connection], object]
    interval: float
    next_run: float = 0.0
    failures: int = 0
    runs: int = field(default=0)


def default_jobs() -> list[Job]:
    jobs = [
        Job("sweep", sweep, interval=5.0),  # escalate hybrid windows, expire overdue requests
        Job("refresh_analytics", refresh_analytics, interval=5.0),  # apply queued changes to the rollups
        Job("experiment_results", refresh_experiment_results, interval=5.0),  # experiment rollup + guardrails
        Job("offers", offers, interval=1.0),  # time out offers, open the next waves, presence auto-away
        Job("relay", relay, interval=0.1),  # send committed routing notifications (pg_notify)
        Job("hours", ranking.hours, interval=30.0),  # working hours: in_hours at the boundaries
        Job("ranking_changes", ranking.ranking_changes, interval=5.0),  # offers' answers into the reliability
        Job("ranking", ranking.ranking, interval=60.0),  # rescore what only time moves
    ]
    if os.environ.get("STRIPE_SECRET_KEY"):  # the money jobs (worker/refunds.py) need Stripe
        from app.payments import stripe_client_from_env
        from worker import refunds

        client = stripe_client_from_env()  # the app's factory: the same timeouts, retries and proxy
        jobs += [
            Job("refunds", lambda conn: refunds.refunds_job(conn, client), interval=5.0),  # make the due refunds
            Job("reconcile", lambda conn: refunds.reconcile_job(conn, client), interval=600.0),  # lost webhooks
        ]
    return jobs


def backoff(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after the n-th failure in a row: base, 2*base, 4*base, ... at most cap."""
    return min(cap, base * 2 ** max(0, failures - 1))


class Worker:
    def __init__(self, url: str, jobs: list[Job], base_backoff: float = 1.0, max_backoff: float = 60.0):
        self.url = url
        self.jobs = jobs
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.stopping = False
        self.conns: dict[str, psycopg.Connection] = {}
        options = (f"-c statement_timeout={int(os.environ.get('WORKER_STATEMENT_TIMEOUT_MS', '30000'))} "
                   f"-c lock_timeout={int(os.environ.get('WORKER_LOCK_TIMEOUT_MS', '5000'))}")
        self.connect_kwargs = {"autocommit": True, "application_name": "ssr-worker", "options": options,
                               "connect_timeout": 5}

    def run_job(self, job: Job) -> bool:
        """Run one job once on its own connection (kept between runs, dropped after a failure);
        True when it succeeded. Never raises."""
        try:
            conn = self.conns.get(job.name)
            if conn is None or conn.closed:
                conn = self.conns[job.name] = psycopg.connect(self.url, **self.connect_kwargs)
            result = job.fn(conn)
        except Exception as exc:  # every failure is logged and retried: the worker must go on
            dropped = self.conns.pop(job.name, None)
            if dropped is not None:
                dropped.close()
            job.failures += 1
            delay = backoff(job.failures, self.base_backoff, self.max_backoff)
            job.next_run = time.monotonic() + delay
            log.error("job %s failed (%d in a row), retrying in %.1f s: %s", job.name, job.failures, delay,
                      str(exc).strip() or type(exc).__name__, exc_info=not isinstance(exc, psycopg.OperationalError),
                      extra={"job": job.name, "outcome": "failed", "failures": job.failures, "retry_in": delay})
            return False
        job.runs += 1
        if job.failures:
            log.info("job %s recovered after %d failures", job.name, job.failures,
                     extra={"job": job.name, "outcome": "recovered", "failures": job.failures})
        job.failures = 0
        job.next_run = time.monotonic() + job.interval
        if result:
            log.info("job %s: %s", job.name, result, extra={"job": job.name, "outcome": "done", "result": str(result)})
        return True

    def run(self, once: bool = False) -> int:
        log.info("worker started (pid %d): %s", os.getpid(), ", ".join(f"{j.name} every {j.interval:g} s" for j in self.jobs))
        if once:
            ok = [self.run_job(j) for j in self.jobs]
            for conn in self.conns.values():
                conn.close()
            return 0 if all(ok) else 1
        while not self.stopping:
            now = time.monotonic()
            for job in self.jobs:
                if self.stopping:
                    break
                if job.next_run <= now:
                    self.run_job(job)
            wake = min(j.next_run for j in self.jobs)
            time.sleep(max(0.05, min(1.0, wake - time.monotonic())))
        for conn in self.conns.values():
            conn.close()
        log.info("worker stopped")
        return 0


def supervise(argv: list[str], base_backoff: float, max_backoff: float) -> int:
    """Run `python -m worker.supervisor ARGV` and start it again whenever it exits, until told to stop."""
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failures = 0
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "worker.supervisor", *argv])
        log.info("supervisor: worker started (pid %d)", child.pid, extra={"worker_pid": child.pid})
        code = child.wait()
        if stopping:
            break
        failures = 1 if time.monotonic() - started > 60 else failures + 1
        delay = backoff(failures, base_backoff, max_backoff)
        log.error("supervisor: worker (pid %d) exited with %s; restarting in %.1f s", child.pid, code, delay,
                  extra={"worker_pid": child.pid, "exit_code": code, "retry_in": delay})
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.05)
    if child is not None and child.poll() is None:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    log.info("supervisor stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    from app.logs import configure

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--once", action="store_true", help="run every job once and exit (1 if one failed)")
    ap.add_argument("--only", action="append", metavar="NAME", help="run only this job (repeatable)")
    ap.add_argument("--every", action="append", default=[], metavar="NAME=SECONDS", help="a job's interval")
    ap.add_argument("--backoff", type=float, default=1.0, help="first retry delay after a failure (s)")
    ap.add_argument("--max-backoff", type=float, default=60.0, help="longest retry delay (s)")
    ap.add_argument("--supervise", action="store_true", help="run the worker as a child and restart it when it dies")
    a = ap.parse_args(argv)
    configure()
    if a.supervise:
        child_argv = [x for x in (argv if argv is not None else sys.argv[1:]) if x != "--supervise"]
        return supervise(child_argv, a.backoff, a.max_backoff)
    url = os.environ.get("WORKER_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        print("worker: set WORKER_DATABASE_URL (or DATABASE_URL)", file=sys.stderr)
        return 2
    jobs = default_jobs()
    known = {j.name for j in jobs}
    for name in a.only or []:
        if name not in known:
            ap.error(f"unknown job {name!r} (jobs: {', '.join(sorted(known))})")
    if a.only:
        jobs = [j for j in jobs if j.name in a.only]
    for spec in a.every:
        name, _, secs = spec.partition("=")
        if name not in known:
            ap.error(f"unknown job {name!r} (jobs: {', '.join(sorted(known))})")
        for j in jobs:
            if j.name == name:
                j.interval = float(secs)
    worker = Worker(url, jobs, a.backoff, a.max_backoff)

    def stop(signum, _frame):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return worker.run(once=a.once)


if __name__ == "__main__":
    sys.exit(main())
