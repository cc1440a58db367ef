"""Helpers for tests of the worker (worker/): its jobs once on a URL, and the real worker as a
process (`python -m worker.supervisor`) with its log in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def sweep_once(url: str) -> tuple[int, int]:
    """sweep_session_requests() once on a connection of its own: (escalated, expired)."""
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


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(0.05)
    return value


class Proc:
    """A worker process (`python -m worker.supervisor ARGS`) with its log in a file."""

    def __init__(self, args: list[str], db_url: str, env: dict | None = None):
        self.log = tempfile.NamedTemporaryFile(prefix="ssr-worker-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "worker.supervisor", *args], cwd=ROOT,
                                     env={**os.environ, **(env or {}), "DATABASE_URL": db_url},
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
