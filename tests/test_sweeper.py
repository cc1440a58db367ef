"""worker/jobs.py: the sweep job the worker runs beside the app (`python -m worker`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.workerutil import refresh_analytics_once, sweep_once

ROOT = Path(__file__).resolve().parent.parent


def overdue_request(conn) -> str:
    conn.execute("UPDATE routing_settings SET open_wait_seconds = 60")
    session = conn.execute(
        "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency) "
        "VALUES ('33333333-3333-4333-8333-000000000001', 'video15', 2900, 'usd') RETURNING id"
    ).fetchone()[0]
    req = conn.execute(
        "SELECT id FROM ssr_private.create_session_request('33333333-3333-4333-8333-000000000001', 'video15', %s, NULL, NULL, 'broadcast')",
        (session,),
    ).fetchone()[0]
    conn.execute("UPDATE session_requests SET created_at = created_at - interval '2 hours', "
                 "expires_at = now() - interval '1 second' WHERE id = %s", (req,))
    return req


def test_sweep_once_expires_overdue_requests(seeded_conn, db_url):
    req = overdue_request(seeded_conn)
    assert sweep_once(db_url) == (0, 1)
    assert seeded_conn.execute("SELECT status, outcome FROM session_requests WHERE id = %s", (req,)).fetchone() == (
        "expired", "expired_no_mechanic")
    assert sweep_once(db_url) == (0, 0)


def test_refresh_analytics_once_empties_the_queue(seeded_conn, db_url):
    seeded_conn.execute("UPDATE sessions SET status = 'refunded' WHERE workshop_id IS NOT NULL")
    queued = seeded_conn.execute("SELECT count(*) FROM analytics_changes").fetchone()[0]
    assert queued > 0
    assert refresh_analytics_once(db_url) == queued
    assert seeded_conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)
    assert seeded_conn.execute(
        "SELECT sum(revenue_minor) FROM analytics.workshop_session_analytics WHERE period_grain = 'month'").fetchone() == (0,)


def test_cli_once_and_missing_url(seeded_conn, db_url, worker_db_url):
    req = overdue_request(seeded_conn)
    seeded_conn.execute("UPDATE reviews SET rating = 1")
    env = dict(os.environ, WORKER_DATABASE_URL=worker_db_url)
    env.pop("DATABASE_URL", None)
    res = subprocess.run([sys.executable, "-m", "worker", "--once"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "job sweep: escalated 0, expired 1" in res.stderr
    assert seeded_conn.execute("SELECT status FROM session_requests WHERE id = %s", (req,)).fetchone() == ("expired",)
    assert seeded_conn.execute("SELECT count(*) FROM analytics_changes").fetchone() == (0,)  # the job ran too
    env.pop("WORKER_DATABASE_URL")
    res = subprocess.run([sys.executable, "-m", "worker", "--once"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.returncode == 2 and "WORKER_DATABASE_URL" in res.stderr
