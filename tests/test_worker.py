"""worker/supervisor.py: periodic jobs that survive every error, and the supervisor that restarts a dead worker."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.test_sweeper import overdue_request
from tests.workerutil import Proc, wait_for
from worker.jobs import sweep
from worker.supervisor import Job, Worker, backoff

ROOT = Path(__file__).resolve().parent.parent


def status_of(conn, req) -> str:
    return conn.execute("SELECT status FROM session_requests WHERE id = %s", (req,)).fetchone()[0]


def test_backoff_is_capped_exponential():
    assert [backoff(n, 1.0, 60.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_job_that_raises_is_logged_retried_with_backoff_and_the_others_go_on(seeded_conn, worker_db_url, caplog):
    calls = []

    def broken(conn):
        calls.append(time.monotonic())
        raise RuntimeError("a bug in a job")

    req = overdue_request(seeded_conn)
    worker = Worker(worker_db_url, [Job("broken", broken, interval=0.01), Job("sweep", sweep, interval=0.05)],
                    base_backoff=0.05, max_backoff=0.2)
    t = threading.Thread(target=worker.run, daemon=True)
    t.start()
    try:
        wait_for(lambda: len(calls) >= 5, 20, "five failed runs")
        wait_for(lambda: status_of(seeded_conn, req) == "expired", 20, "the sweep to go on")
    finally:
        worker.stopping = True
        t.join(10)
    assert not t.is_alive()
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.05 and gaps[2] >= 0.19  # 0.05, 0.1, 0.2, 0.2: backed off, capped
    failures = [r for r in caplog.records if r.getMessage().startswith("job broken failed")]
    assert len(failures) >= 5 and failures[0].exc_info is not None  # with its traceback


def test_the_database_refusing_the_job_does_not_stop_the_worker(seeded_conn, db_url):
    """A real fault inside the database (the sweep function missing, as in a half-applied deploy): the
    worker logs, backs off, and sweeps again once the function is back."""
    seeded_conn.execute("ALTER FUNCTION ssr_private.sweep_session_requests(timestamptz) RENAME TO sweep_session_requests_away")
    w = Proc(["--every", "sweep=0.1", "--backoff", "0.1", "--max-backoff", "0.3"], db_url)
    try:
        wait_for(lambda: w.text().count("job sweep failed") >= 3, 30, "three logged failures")
        assert w.proc.poll() is None
        assert "UndefinedFunction" in w.text() or "does not exist" in w.text()
        seeded_conn.execute("ALTER FUNCTION ssr_private.sweep_session_requests_away(timestamptz) RENAME TO sweep_session_requests")
        req = overdue_request(seeded_conn)
        wait_for(lambda: status_of(seeded_conn, req) == "expired", 30, "the sweep to run again")
        wait_for(lambda: "job sweep recovered after" in w.text(), 10, "the recovery line")
        assert w.proc.poll() is None
    finally:
        w.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="finds the child with ps --ppid")
def test_the_supervisor_restarts_a_killed_worker(seeded_conn, db_url):
    sup = Proc(["--supervise", "--every", "sweep=0.1", "--backoff", "0.1", "--max-backoff", "0.5"], db_url)

    def child() -> int | None:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(sup.proc.pid)], capture_output=True, text=True).stdout.split()
        return int(out[0]) if out else None

    try:
        first = wait_for(child, 30, "the worker to start")
        wait_for(lambda: f"worker started (pid {first})" in sup.text(), 30, "the worker's first line")
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (c := child()) and c != first and c, 30, "a new worker")
        assert f"exited with -{int(signal.SIGKILL)}; restarting" in sup.text()
        req = overdue_request(seeded_conn)
        wait_for(lambda: status_of(seeded_conn, req) == "expired", 30, "the new worker to sweep")
        sup.proc.send_signal(signal.SIGTERM)
        assert sup.proc.wait(timeout=30) == 0
        wait_for(lambda: subprocess.run(["kill", "-0", str(second)], capture_output=True).returncode != 0, 30,
                 "the worker to stop with its supervisor")
    finally:
        sup.stop()
