"""Helpers for tests of the worker (worker/): its jobs once on a URL, and the real worker as a
process (`python -m worker.supervisor`) with its log in a file. Both connect as the worker's
login ssr_worker (the same server and database as the URL given), as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from tests.dbutil import as_user
from worker import jobs

ROOT = Path(__file__).resolve().parent.parent


WORKER_ROLE = "ssr_worker"


def worker_url(url: str) -> str:
    """The same database as the worker's login."""
    return as_user(url, WORKER_ROLE)


def sweep_once(url: str) -> tuple[int, int]:
    """The sweep once on a connection of its own (as ssr_worker): (escalated, expired)."""
    with psycopg.connect(worker_url(url), autocommit=True) as conn:
        return jobs.sweep_counts(conn)


def refresh_analytics_once(url: str) -> int:
    """Every queued analytics change applied, on a connection of its own (as ssr_worker); how many."""
    with psycopg.connect(worker_url(url), autocommit=True) as conn:
        return jobs.refresh_analytics_count(conn)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(0.05)
    return value


class Proc:
    """A worker process (`python -m worker.supervisor ARGS`) with its log in a file, connecting as
    ssr_worker (WORKER_DATABASE_URL; DATABASE_URL stays the owner's, as a DBA would leave it)."""

    def __init__(self, args: list[str], db_url: str, env: dict | None = None):
        self.log = tempfile.NamedTemporaryFile(prefix="ssr-worker-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "worker.supervisor", *args], cwd=ROOT,
                                     env={**os.environ, **(env or {}), "DATABASE_URL": db_url,
                                          "WORKER_DATABASE_URL": worker_url(db_url)},
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return Path(self.log.name).read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()
        os.unlink(self.log.name)

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def relay_worker(db_url: str) -> Proc:
    """The worker running only its notification relay, every 0.1 s as in production: the one
    sender of the routing notifications the app's live pages listen for."""
    return Proc(["--only", "relay"], db_url, env={"STRIPE_SECRET_KEY": ""})
