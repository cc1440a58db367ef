"""The psql script is the runner: same steps, same order, same transactions, same database."""

from __future__ import annotations

import re
import subprocess

import psycopg

from dev import schema
from tests.dbutil import create_database, drop_database, url_for
from tools import migrate as m

STEP = re.compile(r"^-- step \d+: (db/\S+)")


def run_script(url: str, script) -> None:
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(script)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def bookkeeping(url: str) -> tuple[list, list, int, int]:
    """The recorded files (without their timestamps) and how many transactions recorded them."""
    with psycopg.connect(url) as c:
        migrations = c.execute("SELECT version, filename, checksum FROM ssr_meta.schema_migrations ORDER BY 1").fetchall()
        objects = c.execute("SELECT path, checksum FROM ssr_meta.schema_objects ORDER BY 1").fetchall()
        # Each file is recorded by the transaction that applied it: one xmin per file.
        tx_m = c.execute("SELECT count(DISTINCT xmin::text) FROM ssr_meta.schema_migrations").fetchone()[0]
        tx_o = c.execute("SELECT count(DISTINCT xmin::text) FROM ssr_meta.schema_objects").fetchone()[0]
    return migrations, objects, tx_m, tx_o


def test_script_and_runner_build_the_same_database(pg_server_url, tmp_path):
    script = tmp_path / "ssr.sql"
    script.write_text(m.psql_script())
    names = [create_database(pg_server_url, prefix="ssr_runner"), create_database(pg_server_url, prefix="ssr_psql")]
    by_runner, by_psql = (url_for(pg_server_url, n) for n in names)
    try:
        m.migrate(by_runner, say=lambda _msg: None)
        run_script(by_psql, script)
        assert schema.dump(by_psql) == schema.dump(by_runner)
        runner_books, psql_books = bookkeeping(by_runner), bookkeeping(by_psql)
        assert psql_books == runner_books
        migrations, objects, tx_m, tx_o = psql_books
        assert (tx_m, tx_o) == (len(migrations), len(objects))  # one transaction per file, both ways
        # Either one, run after the other, finds nothing to do.
        assert m.migrate(by_psql, say=lambda _msg: None) == []
        run_script(by_runner, script)
        assert bookkeeping(by_runner) == runner_books
    finally:
        for n in names:
            drop_database(pg_server_url, n)


def test_script_steps_are_the_runners_in_the_runners_order(empty_db_url):
    script = m.psql_script()
    steps = [STEP.match(line).group(1) for line in script.splitlines() if STEP.match(line)]
    assert steps == m.migrate(empty_db_url, say=lambda _msg: None)  # a superuser: with the PL/Python layer
    # Each step: one transaction, or (no-transaction files) none, statement by statement.
    blocks = re.split(r"(?m)^-- step \d+: db/", script)[1:]
    by_rel = {f.rel: f for f in m.load_migrations() + m.load_repeatables() + m.load_optional_plpython()}
    for rel, block in zip(steps, blocks, strict=True):
        f = by_rel[rel]
        begins = len(re.findall(r"(?m)^BEGIN;$", block))
        commits = len(re.findall(r"(?m)^COMMIT;$", block))
        assert (begins, commits) == ((1, 1) if f.transactional else (0, 0)), rel
    # The grants come last, after every step, as the runner's.
    assert script.rindex(m.APPLY_PRIVILEGES) > script.rindex("-- step ")
