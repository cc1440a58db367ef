#!/usr/bin/env python3
"""Run the SQL tests a DBA can run (pgTAP files db/tests/*.sql) with pg_prove.

    python dev/installcheck.py [--database-url URL] [FILE ...]

The tests run in a scratch database that this tool creates on the server, migrates,
gives the pgtap extension, and drops afterwards: the server's other databases, and their
data, are never touched. The server is --database-url / DATABASE_URL (its role needs
CREATEDB; creating pgtap needs a superuser, or a managed service's trusted pgtap), else
the embedded cluster of `make run` (.pg, started when needed). Each test file runs in one
transaction that it rolls back. Exit status: pg_prove's (0: all tests passed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "db" / "tests"
sys.path.insert(0, str(ROOT))


def with_dbname(url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "ssr_installcheck"):
    """A new empty database on the server, dropped on exit (also after a failure)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = with_dbname(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_dbname(server_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_env(url: str) -> dict:
    """PG* variables for pg_prove's psql (it takes no connection string of its own)."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "passfile": "PGPASSFILE",
             "dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "options": "PGOPTIONS"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({names[k]: str(v) for k, v in params.items() if k in names})
    return env


def pg_prove(url: str, files: list[Path]) -> subprocess.CompletedProcess:
    """pg_prove on the files against url (a migrated database with pgtap); output captured."""
    exe = shutil.which("pg_prove")
    if exe is None:
        raise SystemExit("installcheck: pg_prove is missing (apt-get install libtap-parser-sourcehandler-pgtap-perl, "
                         "or: python3 dev/pgcluster.py ensure-sql-tools)")
    return subprocess.run([exe, "--ext", ".sql", *map(str, files)], env=libpq_env(url),
                          capture_output=True, text=True, check=False)


def prepare(url: str) -> None:
    """Migrate the scratch database and add pgtap."""
    import psycopg

    from tools.migrate import migrate

    migrate(url)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pgtap")


def server_url(arg: str | None) -> str:
    if arg:
        return arg
    out = subprocess.run([sys.executable, str(ROOT / "dev" / "pgcluster.py"), "start", str(ROOT / ".pg"),
                          "--db", "postgres"], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("files", nargs="*", type=Path)
    a = ap.parse_args(argv)
    files = a.files or sorted(TESTS.glob("*.sql"))
    with scratch_database(server_url(a.database_url)) as url:
        prepare(url)
        res = pg_prove(url, files)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
