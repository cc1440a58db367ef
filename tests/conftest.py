"""Fixtures: a real PostgreSQL 15 with PL/Python.

Without DATABASE_URL a throwaway cluster is started in a temporary folder (and
deleted afterwards); with DATABASE_URL the tests create and drop their own
databases on that server. Every test database is a copy of one migrated
template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.dbutil import as_user, create_database, drop_database, enable_logins, load_seeds, login_url, url_for

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.migrate import migrate  # noqa: E402

FIGURES: list[tuple[str, dict]] = []


@pytest.fixture
def figures(request):
    """figures(**values): the figures a fault or fuzz case measured, printed in the terminal summary
    of every run (with or without -s, with or without pytest-xdist's workers: they travel in the
    case's report), one line per case."""
    def record(**values):
        request.node.user_properties.append(("figures", {k: str(v) for k, v in values.items()}))
        print(f"{request.node.name}: {values}")  # also in the case's captured output
    return record


def pytest_runtest_logreport(report):
    if report.when == "call":
        FIGURES.extend((report.nodeid.rsplit("::", 1)[-1], v) for k, v in report.user_properties if k == "figures")


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.write_sep("-", "figures measured (fault suite, fuzzing)")
    for name, values in FIGURES:
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


@pytest.fixture(scope="session")
def pg_server_url():
    """URL of a server on which the tests may create databases."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    tmp = tempfile.mkdtemp(prefix="ssr-test-pg-")
    os.chmod(tmp, 0o755)  # noqa: S103 - the postgres OS user must reach it (start makes it its own, 0700)
    tool = [sys.executable, str(ROOT / "dev" / "pgcluster.py")]
    url = subprocess.run(
        [*tool, "start", tmp, "--db", "postgres", "--throwaway"], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([*tool, "destroy", tmp], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(pg_server_url):
    """Name of a database holding every migration, used as a template."""
    name = create_database(pg_server_url, prefix="ssr_tpl")
    migrate(url_for(pg_server_url, name))
    enable_logins(pg_server_url)  # roles are the server's: LOGIN + password for every database
    yield name
    drop_database(pg_server_url, name)


@pytest.fixture
def db_url(pg_server_url, migrated_template):
    """A fresh, fully migrated database for one test."""
    name = create_database(pg_server_url, template=migrated_template)
    yield url_for(pg_server_url, name)
    drop_database(pg_server_url, name)


@pytest.fixture
def app_db_url(db_url):
    """db_url as the app's login (role ssr_app): EXECUTE on the API functions, no table writes."""
    return as_user(db_url)


@pytest.fixture
def payments_db_url(db_url):
    """db_url as the payments login (role ssr_payments: fulfillment, Stripe events, reconciliation)."""
    return login_url(db_url, "ssr_payments")


@pytest.fixture
def worker_db_url(db_url):
    """db_url as the worker's login (role ssr_worker)."""
    return login_url(db_url, "ssr_worker")


@pytest.fixture
def bi_db_url(db_url):
    """db_url as the BI login (role ssr_bi, a member of analytics, read-only)."""
    return login_url(db_url, "ssr_bi")


@pytest.fixture
def empty_db_url(pg_server_url):
    """A fresh database with nothing applied."""
    name = create_database(pg_server_url)
    yield url_for(pg_server_url, name)
    drop_database(pg_server_url, name)


@pytest.fixture
def conn(db_url):
    """An autocommit connection to a fresh migrated database."""
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def seeded_conn(conn):
    """`conn` with the demo data of db/seeds loaded."""
    load_seeds(conn)
    return conn
