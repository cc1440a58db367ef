#!/usr/bin/env python3
"""plpgsql_check over every PL/pgSQL function of the schema (make lint).

    python dev/plpgsql_lint.py [--database-url URL]

Migrates a scratch database (on --database-url / DATABASE_URL, else on a throwaway
cluster in a temporary folder, deleted afterwards), creates the plpgsql_check
extension there, and checks every PL/pgSQL function of schemas public, ssr_private and
analytics: plain functions as they are, trigger functions once per table that fires them
(so NEW/OLD have their real row types). Prints every finding; exits 1 when one is of
level error (warnings are printed, not fatal).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dev.installcheck import scratch_database  # noqa: E402

# Our PL/pgSQL functions with, for trigger functions, each table a trigger of theirs is on.
TARGETS = """
SELECT p.oid, p.oid::regprocedure::text AS fn, t.tgrelid::regclass::text AS rel
FROM pg_proc AS p
INNER JOIN pg_namespace AS n ON p.pronamespace = n.oid
INNER JOIN pg_language AS l ON p.prolang = l.oid
LEFT JOIN (SELECT DISTINCT tgfoid, tgrelid FROM pg_trigger WHERE NOT tgisinternal) AS t ON t.tgfoid = p.oid
WHERE l.lanname = 'plpgsql'
  AND n.nspname IN ('public', 'ssr_private', 'analytics')
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 2, 3
"""

CHECK = """
SELECT level, lineno, sqlstate, message, detail, hint, statement
FROM plpgsql_check_function_tb(%s::regprocedure, coalesce(%s::regclass, 0), fatal_errors => false,
                               other_warnings => true, extra_warnings => true)
"""


@contextlib.contextmanager
def throwaway_server():
    tmp = tempfile.mkdtemp(prefix="ssr-plpgsql-check-")
    os.chmod(tmp, 0o755)  # noqa: S103 - the postgres OS user must reach it
    tool = [sys.executable, str(ROOT / "dev" / "pgcluster.py")]
    try:
        yield subprocess.run([*tool, "start", tmp, "--db", "postgres"], check=True, capture_output=True,
                             text=True).stdout.strip()
    finally:
        subprocess.run([*tool, "destroy", tmp], check=False, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def check(url: str) -> tuple[int, list[str], int]:
    """(number of errors, report lines, functions checked) for a migrated database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check")
        targets = c.execute(TARGETS).fetchall()
        errors, lines = 0, []
        for oid, fn, rel in targets:
            for level, lineno, sqlstate, message, detail, hint, statement in c.execute(CHECK, (oid, rel)):
                errors += level == "error"
                where = f"{fn}" + (f" on {rel}" if rel else "") + (f":{lineno}" if lineno else "")
                extra = "".join(f" ({x})" for x in (detail, hint) if x)
                lines.append(f"{level}: {where}: {statement or ''} {sqlstate}: {message}{extra}".replace("  ", " "))
    return errors, lines, len(targets)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    a = ap.parse_args(argv)
    from tools.migrate import migrate

    server = contextlib.nullcontext(a.database_url) if a.database_url else throwaway_server()
    with server as server_url, scratch_database(server_url, prefix="ssr_plpgsql_check") as url:
        migrate(url)
        errors, lines, checked = check(url)
    for line in lines:
        print(line)
    print(f"plpgsql_check: {checked} function/table pair(s) checked, {errors} error(s), "
          f"{len(lines) - errors} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
