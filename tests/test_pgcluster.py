"""The embedded cluster: created once, reused, restarted on the same URL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

TOOL = [sys.executable, str(Path(__file__).resolve().parent.parent / "dev" / "pgcluster.py")]


DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


def pg(*args: str) -> str:
    return subprocess.run([*TOOL, *args], check=True, capture_output=True, text=True).stdout.strip()


def durability(url: str) -> dict[str, str]:
    with psycopg.connect(url) as c:
        return dict(c.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(DURABILITY),)).fetchall())


def test_start_reuses_and_restarts_on_the_same_url():
    base = Path(tempfile.mkdtemp(prefix="ssr-pgcluster-"))  # pytest's tmp_path is private to root
    os.chmod(base, 0o755)  # noqa: S103 - the postgres OS user must reach it
    d = base / "cluster"
    try:
        url = pg("start", str(d), "--db", "demo")
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("CREATE TABLE kept (x int)")
            c.execute("INSERT INTO kept VALUES (7)")
            if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
                owner = c.execute("SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'demo'").fetchone()[0]
                assert owner == "postgres"
        assert pg("start", str(d), "--db", "demo") == url  # running: reused
        pg("stop", str(d))
        assert subprocess.run(["pg_isready", "-d", url], capture_output=True).returncode != 0
        assert pg("start", str(d), "--db", "demo") == url  # stopped: restarted, data kept
        with psycopg.connect(url) as c:
            assert c.execute("SELECT x FROM kept").fetchone() == (7,)
        if os.geteuid() == 0:
            assert (d / "data").stat().st_uid != 0
        assert durability(url) == dict.fromkeys(DURABILITY, "on")  # a cluster users run keeps every commit

        # A cluster made by an older version (durability off in its conf) is made durable on the next start.
        pg("stop", str(d))
        with open(d / "data" / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        done = subprocess.run([*TOOL, "start", str(d), "--db", "demo"], check=True, capture_output=True, text=True)
        assert done.stdout.strip() == url
        assert "making it durable" in done.stderr
        assert durability(url) == dict.fromkeys(DURABILITY, "on")
        with psycopg.connect(url) as c:
            assert c.execute("SELECT x FROM kept").fetchone() == (7,)
        # --throwaway never relaxes an existing cluster.
        assert pg("start", str(d), "--db", "demo", "--throwaway") == url
        assert durability(url) == dict.fromkeys(DURABILITY, "on")
    finally:
        pg("destroy", str(d))
    assert not d.exists()
    base.rmdir()


def test_only_the_throwaway_test_cluster_relaxes_durability(pg_server_url):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("an existing server: its settings are its operator's")
    assert durability(pg_server_url) == dict.fromkeys(DURABILITY, "off")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the cluster as another OS user")
def test_a_folder_the_postgres_user_cannot_reach_gets_a_link():
    private = Path(tempfile.mkdtemp(prefix="ssr-private-"))  # 0700, owned by root
    d = private / "project" / ".pg"
    d.parent.mkdir()
    try:
        url = pg("start", str(d), "--db", "demo")
        assert d.is_symlink()
        target = Path(os.path.realpath(d))
        assert target.parent == Path("/var/tmp") and target.name.startswith("ssr-pg-")  # noqa: S108
        with psycopg.connect(url) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        assert pg("url", str(d), "--db", "demo") == url
    finally:
        pg("destroy", str(d))
    assert not d.exists() and not d.is_symlink()
    assert not target.exists()
    shutil.rmtree(private)
