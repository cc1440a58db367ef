"""db/optional/pg_cron.sql, for real: a small cluster with pg_cron preloaded schedules the jobs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from dev import pgcluster
from tests.dbutil import url_for
from tools.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent


def ensure_pg_cron() -> None:
    """Install Debian's postgresql-15-cron as the project installs PL/Python (root: apt-get)."""
    if os.geteuid() != 0 and not os.path.exists(os.path.join(pgcluster.pkglibdir(), "pg_cron.so")):
        pytest.skip("pg_cron is not installed (apt-get install postgresql-15-cron, as root)")
    subprocess.run([sys.executable, str(ROOT / "dev" / "pgcluster.py"), "ensure-pg-cron"], check=True)


@pytest.fixture(scope="module")
def cron_server():
    ensure_pg_cron()
    tmp = tempfile.mkdtemp(prefix="ssr-test-cron-")
    os.chmod(tmp, 0o755)  # noqa: S103 - the postgres OS user must reach it
    tool = [sys.executable, str(ROOT / "dev" / "pgcluster.py")]
    d = os.path.join(tmp, "pg")
    try:
        subprocess.run([*tool, "start", d, "--db", "postgres"], check=True, capture_output=True)
        subprocess.run([*tool, "stop", d], check=True)
        with open(os.path.join(d, "data", "postgresql.conf"), "a", encoding="ascii") as fh:
            fh.write("shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n")
        url = subprocess.run([*tool, "start", d, "--db", "postgres"], check=True, capture_output=True,
                             text=True).stdout.strip()
        yield url
    finally:
        subprocess.run([*tool, "destroy", d], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def test_pg_cron_script_schedules_the_three_jobs_and_can_run_again(cron_server):
    with psycopg.connect(cron_server, autocommit=True) as c:
        c.execute('CREATE DATABASE "marketplace"')
    migrate(url_for(cron_server, "marketplace"), say=lambda _m: None)
    for _ in range(2):
        res = subprocess.run(
            ["psql", "-X", "-q", "-d", cron_server, "-v", "ssr_db=marketplace", "-f",
             str(ROOT / "db" / "optional" / "pg_cron.sql")],
            capture_output=True, text=True,
        )
        assert res.returncode == 0, res.stderr
    with psycopg.connect(cron_server) as c:
        jobs = c.execute("SELECT jobname, schedule, command, database, active FROM cron.job ORDER BY jobname").fetchall()
    assert jobs == [
        ("ssr_outbox_prune", "17 3 * * *", "SELECT ssr_private.routing_outbox_prune()", "marketplace", True),
        ("ssr_refresh_analytics", "* * * * *", "SELECT * FROM ssr_private.refresh_analytics()", "marketplace", True),
        ("ssr_sweep_session_requests", "* * * * *", "SELECT * FROM ssr_private.sweep_session_requests()", "marketplace", True),
    ]
    # The commands themselves run in that database.
    with psycopg.connect(url_for(cron_server, "marketplace")) as c:
        for _, _, command, _, _ in jobs:
            c.execute(command)
