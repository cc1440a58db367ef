"""The migration runner: once, in order, each step atomic, under a lock, refusing edits."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from tools import migrate as m

ROOT = Path(__file__).resolve().parent.parent

SCHEMA_SNAPSHOT = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('public', 'ssr_meta')
ORDER BY 1, 3
"""


def snapshot(url: str) -> list[tuple]:
    with psycopg.connect(url) as c:
        rows = c.execute(SCHEMA_SNAPSHOT).fetchall()
        rows += c.execute(
            "SELECT p.proname, md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' ORDER BY 1, 2"
        ).fetchall()
        rows += c.execute("SELECT version, checksum, applied_at::text FROM ssr_meta.schema_migrations ORDER BY 1").fetchall()
        rows += c.execute("SELECT path, checksum, applied_at::text FROM ssr_meta.schema_objects ORDER BY 1").fetchall()
    return rows


def has_table(url: str, name: str) -> bool:
    with psycopg.connect(url) as c:
        return c.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


@pytest.fixture
def db_copy(tmp_path):
    """A copy of db/ that a test may change."""
    dst = tmp_path / "db"
    shutil.copytree(ROOT / "db", dst)
    return dst


def test_applies_every_migration_on_an_empty_database(empty_db_url):
    applied = m.migrate(empty_db_url)
    migrations = m.load_migrations()
    repeatables = m.load_repeatables() + m.load_optional_plpython()  # a superuser: the layer applies
    assert applied == [f.rel for f in m.run_order(migrations, repeatables)]
    with psycopg.connect(empty_db_url) as c:
        versions = [r[0] for r in c.execute("SELECT version FROM ssr_meta.schema_migrations ORDER BY version")]
        checksums = dict(c.execute("SELECT version, checksum FROM ssr_meta.schema_migrations").fetchall())
    assert versions == [f.key for f in migrations]
    assert checksums == {f.key: f.checksum for f in migrations}
    for table in ("organizations", "mechanics", "customers", "plans", "intakes", "session_requests", "sessions", "reviews"):
        assert has_table(empty_db_url, table), table


def test_second_run_is_a_no_op(empty_db_url):
    m.migrate(empty_db_url)
    before = snapshot(empty_db_url)
    assert m.migrate(empty_db_url) == []
    assert snapshot(empty_db_url) == before


def test_two_concurrent_runners_apply_once(empty_db_url):
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def run():
        barrier.wait()
        try:
            results.append(m.migrate(empty_db_url))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    everything = [f.rel for f in m.run_order(m.load_migrations(), m.load_repeatables() + m.load_optional_plpython())]
    assert sorted(results, key=len) == [[], everything]
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT count(*) FROM ssr_meta.schema_migrations").fetchone()[0] == len(m.load_migrations())


def test_a_failed_file_is_rolled_back_names_file_and_line_and_a_rerun_completes(empty_db_url, db_copy):
    (db_copy / "migrations" / "9998_fine.sql").write_text("CREATE TABLE fine_table (id int);\n")
    broken = db_copy / "migrations" / "9999_broken.sql"
    broken.write_text("-- a comment\nCREATE TABLE also_fine (id int);\nSELECT * FROM no_such_table;\n")
    with pytest.raises(m.MigrationError) as err:
        m.migrate(empty_db_url, db_dir=db_copy)
    assert "db/migrations/9999_broken.sql:3" in str(err.value)
    assert "no_such_table" in str(err.value)
    # Each file is one transaction: the broken one left nothing, the ones before it stay recorded.
    assert not has_table(empty_db_url, "also_fine")
    assert has_table(empty_db_url, "fine_table")
    with psycopg.connect(empty_db_url) as c:
        versions = {r[0] for r in c.execute("SELECT version FROM ssr_meta.schema_migrations")}
    assert "9998" in versions and "9999" not in versions
    # Once fixed, a re-run applies what is left and ends where a clean run ends.
    broken.write_text("-- a comment\nCREATE TABLE also_fine (id int);\n")
    assert m.migrate(empty_db_url, db_dir=db_copy)[0] == "db/migrations/9999_broken.sql"
    assert has_table(empty_db_url, "also_fine")
    assert m.migrate(empty_db_url, db_dir=db_copy) == []


def test_a_failed_object_file_is_rolled_back_alone_and_a_rerun_completes(empty_db_url, db_copy):
    """Each repeatable file is one transaction: the broken one leaves nothing, those before it stay."""
    m.migrate(empty_db_url, db_dir=db_copy)
    before = snapshot(empty_db_url)
    (db_copy / "functions" / "aa_fine.sql").write_text(
        "CREATE OR REPLACE FUNCTION aa_fine() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
    )
    broken = db_copy / "views" / "zz_broken.sql"
    broken.write_text("CREATE OR REPLACE VIEW zz_broken AS\nSELECT * FROM nowhere;\n")
    with pytest.raises(m.MigrationError, match=r"db/views/zz_broken.sql:2"):
        m.migrate(empty_db_url, db_dir=db_copy)
    assert not has_table(empty_db_url, "zz_broken")
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT aa_fine()").fetchone() == (1,)
        recorded = {r[0] for r in c.execute("SELECT path FROM ssr_meta.schema_objects")}
    assert "functions/aa_fine.sql" in recorded and "views/zz_broken.sql" not in recorded
    new_rows = [r for r in snapshot(empty_db_url) if r not in before and len(r) != 3]  # not bookkeeping
    assert [r[0] for r in new_rows] == ["aa_fine"]
    broken.write_text("CREATE OR REPLACE VIEW zz_broken AS\nSELECT 1 AS one;\n")
    assert m.migrate(empty_db_url, db_dir=db_copy) == ["db/views/zz_broken.sql"]
    assert has_table(empty_db_url, "zz_broken")


def test_an_edited_applied_migration_is_refused(empty_db_url, db_copy):
    m.migrate(empty_db_url, db_dir=db_copy)
    before = snapshot(empty_db_url)
    first = sorted((db_copy / "migrations").glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\nCREATE TABLE sneaky (id int);\n")
    with pytest.raises(m.MigrationError, match=r"0001_base_schema.sql was edited after it was applied"):
        m.migrate(empty_db_url, db_dir=db_copy)
    assert snapshot(empty_db_url) == before
    assert not has_table(empty_db_url, "sneaky")


def test_a_changed_function_file_is_reapplied_and_only_it(empty_db_url, db_copy):
    fn = db_copy / "functions" / "zz_test_answer.sql"
    fn.write_text("CREATE OR REPLACE FUNCTION zz_test_answer() RETURNS int LANGUAGE sql AS 'SELECT 41';\n")
    m.migrate(empty_db_url, db_dir=db_copy)
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT zz_test_answer()").fetchone()[0] == 41
    fn.write_text("CREATE OR REPLACE FUNCTION zz_test_answer() RETURNS int LANGUAGE sql AS 'SELECT 42';\n")
    assert m.migrate(empty_db_url, db_dir=db_copy) == ["db/functions/zz_test_answer.sql"]
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT zz_test_answer()").fetchone()[0] == 42
        stored = c.execute("SELECT checksum FROM ssr_meta.schema_objects WHERE path = 'functions/zz_test_answer.sql'").fetchone()[0]
    assert stored == m.SqlFile(fn, "functions/zz_test_answer.sql", fn.read_text()).checksum


def test_dry_run_prints_pending_sql_and_changes_nothing(empty_db_url, capsys):
    import io

    out = io.StringIO()
    planned = m.migrate(empty_db_url, dry_run=True, out=out)
    assert planned == [f.rel for f in m.run_order(m.load_migrations(), m.load_repeatables() + m.load_optional_plpython())]
    assert "CREATE TABLE organizations" in out.getvalue()
    assert not has_table(empty_db_url, "organizations")
    assert not has_table(empty_db_url, "ssr_meta.schema_migrations")


def test_cli_reports_failure_with_non_zero_exit(empty_db_url, db_copy):
    (db_copy / "migrations" / "9999_broken.sql").write_text("SELEC 1;\n")
    cli = [sys.executable, str(ROOT / "tools" / "migrate.py")]
    res = subprocess.run([*cli, "--database-url", empty_db_url, "--db-dir", str(db_copy)], capture_output=True, text=True)
    assert res.returncode == 1
    assert "FAILED" in res.stderr and "run again to continue" in res.stderr
    assert "db/migrations/9999_broken.sql:1" in res.stderr
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT count(*) FROM ssr_meta.schema_migrations WHERE version = '9999'").fetchone()[0] == 0
    res = subprocess.run([*cli, "--database-url", empty_db_url], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "applied" in res.stdout
    assert has_table(empty_db_url, "organizations")
    res = subprocess.run([*cli, "--database-url", ""], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert res.returncode == 2
    assert "DATABASE_URL" in res.stderr


def test_psql_script_gives_the_same_schema_and_is_rerunnable(empty_db_url, pg_server_url, migrated_template, tmp_path):
    script = tmp_path / "ssr.sql"
    script.write_text(m.psql_script())
    for _ in range(2):  # the second run must be a no-op for migrations
        res = subprocess.run(["psql", "-X", "-q", "-d", empty_db_url, "-f", str(script)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    from tests.dbutil import url_for

    ref = url_for(pg_server_url, migrated_template)

    def shape(url):
        return [r for r in snapshot(url) if len(r) != 3]  # bookkeeping timestamps differ

    assert shape(empty_db_url) == shape(ref)
    # The script grants the allowlist too (ssr_private.apply_privileges() at its end).
    with psycopg.connect(empty_db_url) as c:
        assert c.execute(
            "SELECT has_function_privilege('ssr_app', 'get_workshop_directory(integer,integer,text,text)', 'EXECUTE'), "
            "has_function_privilege('public', 'get_workshop_directory(integer,integer,text,text)', 'EXECUTE')"
        ).fetchone() == (True, False)
    # The runner agrees that nothing is left to do after the psql script.
    assert m.migrate(empty_db_url) == []


def test_the_plpython_layer_is_optional(empty_db_url, tmp_path):
    """--skip-plpython (and psql -v ssr_skip_plpython=1) install the core without PL/Python:
    the language is no longer created by a numbered migration."""
    optional = [f.rel for f in m.load_optional_plpython()]
    assert optional[0] == "db/optional/plpython/language.sql"
    assert "db/optional/plpython/functions/20_ssr_private.explain_routing.sql" in optional
    assert not any("plpython" in f.sql for f in m.load_migrations())
    applied = m.migrate(empty_db_url, plpython=False)
    assert not set(optional) & set(applied)
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT count(*) FROM pg_extension WHERE extname = 'plpython3u'").fetchone() == (0,)
        assert c.execute("SELECT to_regprocedure('ssr_private.explain_routing(uuid)')").fetchone() == (None,)
    script = tmp_path / "ssr.sql"
    script.write_text(m.psql_script())
    res = subprocess.run(["psql", "-X", "-q", "-v", "ssr_skip_plpython=1", "-d", empty_db_url, "-f", str(script)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT to_regprocedure('ssr_private.explain_routing(uuid)')").fetchone() == (None,)
    # later, where the language is possible, the layer is added (and only it)
    assert m.migrate(empty_db_url) == optional
    with psycopg.connect(empty_db_url) as c:
        assert c.execute("SELECT to_regprocedure('ssr_private.explain_routing(uuid)') IS NOT NULL").fetchone() == (True,)


def test_psql_script_refuses_an_edited_migration(empty_db_url, db_copy, tmp_path):
    m.migrate(empty_db_url, db_dir=db_copy)
    first = sorted((db_copy / "migrations").glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    script = tmp_path / "ssr.sql"
    script.write_text(m.psql_script(db_copy))
    res = subprocess.run(["psql", "-X", "-q", "-d", empty_db_url, "-f", str(script)], capture_output=True, text=True)
    assert res.returncode != 0
    assert "0001_base_schema.sql was edited after it was applied" in res.stderr


def test_split_statements_minds_quotes_comments_and_bodies():
    sql = (
        "-- lead; comment\nCREATE TABLE a (x text DEFAULT 'a;b');\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$\nBEGIN\n  RETURN 1; -- ;\nEND\n$fn$;\n"
        "/* block; */ SELECT \"we;ird\" FROM a;\n  \nSELECT $1"
    )
    got = m.split_statements(sql)
    assert [line for line, _ in got] == [1, 3, 8, 10]
    assert got[1][1].rstrip().endswith("$fn$;")
    assert got[3][1].strip() == "SELECT $1"


def test_error_inside_a_later_statement_names_its_line(empty_db_url, db_copy):
    (db_copy / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE t1 (id int);\n\nINSERT INTO t1 VALUES (1);\nINSERT INTO t1\nVALUES ('not a number');\n"
    )
    with pytest.raises(m.MigrationError, match=r"9999_broken.sql:(4|5): invalid input syntax"):
        m.migrate(empty_db_url, db_dir=db_copy)
