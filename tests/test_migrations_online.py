"""Migrations applied to a live database: no-transaction files, lock_timeout retries, writers unharmed,
and an upgrade from the previous release ending in the fresh schema.

The long form (1M sessions, durable cluster, stall figures) is `make bench-migrations`.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import threading
from pathlib import Path

import psycopg
import pytest

from bench import migration_stall as ms
from dev import schema
from tests import releases
from tests.dbutil import create_database, drop_database, url_for
from tools import migrate as m

ROOT = Path(__file__).resolve().parent.parent
FAST = m.LockPolicy(lock_timeout="100ms", retry_for=60, backoff_first=0.05, backoff_max=0.5)


@pytest.fixture
def db_copy(tmp_path):
    dst = tmp_path / "db"
    shutil.copytree(ROOT / "db", dst)
    return dst


def test_unknown_marker_is_refused(db_copy):
    (db_copy / "migrations" / "9999_x.sql").write_text("-- ssr:no-transactoin\nSELECT 1;\n")
    with pytest.raises(m.MigrationError, match=r"unknown marker ssr:no-transactoin"):
        m.load_migrations(db_copy)


def invalid_index(url: str) -> None:
    """What an interrupted CREATE INDEX CONCURRENTLY leaves: an INVALID index."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE TABLE zz_t (x int)")
        c.execute("INSERT INTO zz_t VALUES (1), (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            c.execute("CREATE UNIQUE INDEX CONCURRENTLY zz_t_x_key ON zz_t (x)")
        assert c.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'zz_t_x_key'::regclass").fetchone() == (
            False,
        )
        c.execute("DELETE FROM zz_t WHERE ctid = (SELECT min(ctid) FROM zz_t)")


@pytest.mark.parametrize("via", ["runner", "psql"])
def test_no_transaction_file_rebuilds_an_invalid_index_and_can_run_again(db_url, db_copy, tmp_path, via):
    invalid_index(db_url)
    (db_copy / "migrations" / "9999_unique.sql").write_text(
        "-- ssr:no-transaction\n-- 9999: a unique index built without blocking writers.\n"
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS zz_t_x_key ON zz_t (x);\n"
        "ALTER TABLE zz_t ADD COLUMN IF NOT EXISTS y int;\n"
    )
    for _ in range(2):  # the second run: nothing pending, nothing changes
        if via == "runner":
            m.migrate(db_url, db_dir=db_copy)
        else:
            script = tmp_path / "ssr.sql"
            script.write_text(m.psql_script(db_copy))
            res = subprocess.run(["psql", "-X", "-q", "-d", db_url, "-f", str(script)], capture_output=True, text=True)
            assert res.returncode == 0, res.stderr
    with psycopg.connect(db_url) as c:
        assert c.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'zz_t_x_key'::regclass").fetchone() == (
            True,
        )
        assert c.execute("SELECT count(*) FROM ssr_meta.schema_migrations WHERE version = '9999'").fetchone()[0] == 1


def base_database(pg_server_url: str, sessions: int) -> str:
    url = url_for(pg_server_url, create_database(pg_server_url, prefix="ssr_online"))
    ms.build_base(url, sessions, say=lambda _msg: None)
    return url


def hold_lock(url: str, table: str, holding: threading.Event, release: threading.Event) -> None:
    with psycopg.connect(url) as c:
        c.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        holding.set()
        release.wait(120)
        c.rollback()


def test_runner_retries_under_lock_timeout_while_a_table_is_held_then_completes(pg_server_url):
    url = base_database(pg_server_url, 200)
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(url, "session_requests", holding, release))
    holder.start()
    assert holding.wait(30)
    messages: list[str] = []

    def say(msg: str) -> None:
        messages.append(msg)
        if sum("lock timeout" in x for x in messages) >= 3:
            release.set()  # the holder lets go once the runner has retried a few times

    try:
        applied = m.migrate(url, policy=FAST, say=say)
    finally:
        release.set()
        holder.join()
    waits = [x for x in messages if "lock timeout" in x]
    assert len(waits) >= 3
    assert "0002_smart_routing_columns.sql" in waits[0] and "lock_timeout 100ms" in waits[0]
    assert any("done at attempt" in x for x in messages)
    assert "db/migrations/0034_validate_constraints.sql" in applied
    assert m.migrate(url) == []


def test_a_runner_that_gives_up_leaves_a_state_a_rerun_completes(pg_server_url):
    url = base_database(pg_server_url, 200)
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(url, "sessions", holding, release))
    holder.start()
    assert holding.wait(30)
    try:
        with pytest.raises(m.MigrationError, match=r"0003_smart_routing_session_columns.sql.*gave up after \d+ attempts"):
            m.migrate(url, policy=m.LockPolicy(lock_timeout="50ms", retry_for=0.5, backoff_first=0.1), say=lambda _m: None)
    finally:
        release.set()
        holder.join()
    with psycopg.connect(url) as c:
        done = [r[0] for r in c.execute("SELECT version FROM ssr_meta.schema_migrations ORDER BY 1")]
    assert done == ["0001", "0002"]
    m.migrate(url, say=lambda _m: None)
    assert schema.dump(url) == schema.fresh_dump(pg_server_url)


def test_migrations_under_concurrent_writers_end_in_the_fresh_schema_without_aborting_a_writer(pg_server_url):
    url = base_database(pg_server_url, 3000)
    # A reader holds sessions and session_requests until the runner has retried twice.
    result = ms.run_scenario(url, hold=60, release_after_retries=2, warmup=0.5, say=lambda _m: None, policy=FAST)
    assert result["write_transactions"] > 50
    assert result["aborted_transactions"] == 0, result["error_examples"]
    assert result["deadlocks"] == 0
    assert result["workshop_stats_rows_off"] == 0  # the online backfill missed and doubled nothing
    assert result["lock_retries"] >= 2  # the reader made the runner wait and retry
    assert schema.dump(url) == schema.fresh_dump(pg_server_url)
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM pg_constraint WHERE NOT convalidated").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0] == 0
        assert c.execute("SELECT coalesce(bool_and(ispopulated), TRUE) FROM pg_matviews").fetchone()[0] is True


@pytest.mark.parametrize("release", sorted(releases.RELEASES))
def test_upgrading_an_earlier_release_gives_the_fresh_schema(release, pg_server_url, tmp_path):
    name = create_database(pg_server_url, prefix="ssr_upgrade")
    url = url_for(pg_server_url, name)
    try:
        # That release's own runner, on its own files (tests/releases.py), then today's runner.
        releases.install(releases.RELEASES[release], url, tmp_path)
        m.migrate(url, say=lambda _msg: None)
        upgraded = schema.dump(url)
        fresh = schema.fresh_dump(pg_server_url)
        if upgraded != fresh:
            diff = "".join(list(difflib.unified_diff(fresh.splitlines(True), upgraded.splitlines(True),
                                                     "fresh", f"upgraded from {release}"))[:80])
            raise AssertionError(f"the upgraded schema differs from a fresh install:\n{diff}")
        assert m.migrate(url, say=lambda _msg: None) == []
    finally:
        drop_database(pg_server_url, name)
