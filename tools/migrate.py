#!/usr/bin/env python3
"""Apply the database migrations of Smart Session Routing.

Two kinds of files live under db/:

* db/migrations/NNNN_name.sql - immutable, numbered schema changes (tables,
  columns, indexes). Each is applied once and recorded with its SHA-256 in
  ssr_meta.schema_migrations. Editing one that was applied is refused.
* db/functions/, db/triggers/, db/views/ - one object per file, written with
  CREATE OR REPLACE. Re-applied whenever its content changes (checksum in
  ssr_meta.schema_objects), after the numbered migrations, in a stable order:
  functions, then views, then triggers; by file name inside each folder.
* db/optional/plpython/ - the optional PL/Python layer (the language, then its
  functions), applied like the repeatables only where plpython3u is installed in the
  database or may be created by this role (a superuser on a server that has it);
  --skip-plpython leaves it out. Managed services do not offer it: the core runs without.

At the end of a run that applied anything, ssr_private.apply_privileges() grants
exactly the allowlist of API functions (db/functions/api_functions.sql).

A run holds a transaction-level advisory lock and does all of its work in one
transaction: two runners never interleave, a second run is a no-op, and a
failure rolls back everything of that run and names the file and the line.

    python tools/migrate.py [--database-url URL] [--dry-run] [--skip-plpython]
    python tools/migrate.py --psql-script > ssr.sql   # for `psql -f`, no Python
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_DIR = ROOT / "db"
REPEATABLE_DIRS = ("functions", "views", "triggers")
OPTIONAL_PLPYTHON = ("optional/plpython/language.sql", "optional/plpython/functions")
# Whether the optional PL/Python layer can be applied by this role in this database.
PLPYTHON_POSSIBLE = (
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'plpython3u') "
    "OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plpython3u') "
    "AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))"
)
APPLY_PRIVILEGES = "SELECT ssr_private.apply_privileges()"
# pg_advisory_xact_lock key: the first 8 bytes of sha256("smart-session-routing:migrate")
LOCK_KEY = int.from_bytes(hashlib.sha256(b"smart-session-routing:migrate").digest()[:8], "big", signed=True)

BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS ssr_meta;
CREATE TABLE IF NOT EXISTS ssr_meta.schema_migrations (
    version text PRIMARY KEY,
    filename text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ssr_meta.schema_objects (
    path text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class SqlFile:
    path: Path
    key: str  # version for migrations, relative path for repeatables
    sql: str

    @property
    def rel(self) -> str:
        """The path as a DBA sees it: db/migrations/0001_base_schema.sql."""
        if "/" in self.key:
            return f"db/{self.key}"
        return f"{self.path.parent.parent.name}/{self.path.parent.name}/{self.path.name}"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(db_dir: Path = DB_DIR) -> list[SqlFile]:
    out: list[SqlFile] = []
    seen: dict[str, Path] = {}
    for p in sorted((db_dir / "migrations").glob("*.sql")):
        version = p.name.split("_", 1)[0]
        if not version.isdigit():
            raise MigrationError(f"{p}: migration file names start with a number, e.g. 0001_base.sql")
        if version in seen:
            raise MigrationError(f"{p}: version {version} is also used by {seen[version]}")
        seen[version] = p
        out.append(SqlFile(p, version, p.read_text(encoding="utf-8")))
    return sorted(out, key=lambda f: int(f.key))


def load_repeatables(db_dir: Path = DB_DIR) -> list[SqlFile]:
    out: list[SqlFile] = []
    for sub in REPEATABLE_DIRS:
        for p in sorted((db_dir / sub).glob("*.sql")):
            out.append(SqlFile(p, f"{sub}/{p.name}", p.read_text(encoding="utf-8")))
    return out


def load_optional_plpython(db_dir: Path = DB_DIR) -> list[SqlFile]:
    """The optional PL/Python layer: the language first, then its functions by file name."""
    language, functions = (db_dir / OPTIONAL_PLPYTHON[0]), (db_dir / OPTIONAL_PLPYTHON[1])
    files = ([language] if language.exists() else []) + sorted(functions.glob("*.sql"))
    return [SqlFile(p, p.relative_to(db_dir).as_posix(), p.read_text(encoding="utf-8")) for p in files]


def line_of(sql: str, position: int | None) -> int | None:
    if not position:
        return None
    return sql[: position - 1].count("\n") + 1


def describe(f: SqlFile, exc: Exception, line: int | None = None) -> str:
    """file:line: message. Without `line`, the server's position in the file gives it."""
    diag = getattr(exc, "diag", None)
    if line is None and diag is not None and diag.statement_position:
        line = line_of(f.sql, int(diag.statement_position))
    where = f"{f.rel}:{line}" if line else f.rel
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    ctx = f" ({diag.context.strip().splitlines()[0]})" if diag is not None and diag.context else ""
    return f"{where}: {msg}{ctx}"


def plan(conn, migrations: list[SqlFile], repeatables: list[SqlFile]) -> tuple[list[SqlFile], list[SqlFile]]:
    """What this run must apply; refuses edited applied migrations."""
    applied = dict(conn.execute("SELECT version, checksum FROM ssr_meta.schema_migrations").fetchall())
    objects = dict(conn.execute("SELECT path, checksum FROM ssr_meta.schema_objects").fetchall())
    todo_m = []
    for m in migrations:
        if m.key in applied:
            if applied[m.key] != m.checksum:
                raise MigrationError(
                    f"{m.rel} was edited after it was applied (recorded checksum "
                    f"{applied[m.key][:12]}, file now {m.checksum[:12]}). Applied migrations "
                    f"are immutable: restore the file and add a new migration instead."
                )
        else:
            todo_m.append(m)
    todo_r = [r for r in repeatables if objects.get(r.key) != r.checksum]
    return todo_m, todo_r


def migrate(database_url: str, dry_run: bool = False, db_dir: Path = DB_DIR, out=sys.stdout,
            plpython: bool | None = None) -> list[str]:
    """Apply what is pending; returns the relative paths applied (or to apply, for a dry run).
    plpython: apply the optional PL/Python layer (None: where possible, False: never)."""
    import psycopg

    migrations = load_migrations(db_dir)
    repeatables = load_repeatables(db_dir)
    with psycopg.connect(database_url, autocommit=False) as conn:
        conn.execute("SET lock_timeout = 0")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        if plpython is None:
            plpython = conn.execute(PLPYTHON_POSSIBLE).fetchone()[0]
        if plpython:
            repeatables = repeatables + load_optional_plpython(db_dir)
        if dry_run:
            has_meta = conn.execute("SELECT to_regclass('ssr_meta.schema_objects') IS NOT NULL").fetchone()[0]
            if not has_meta:
                todo_m, todo_r = migrations, repeatables
            else:
                todo_m, todo_r = plan(conn, migrations, repeatables)
            for f in todo_m + todo_r:
                print(f"-- {f.rel} (sha256 {f.checksum[:12]})", file=out)
                print(f.sql.rstrip() + "\n", file=out)
            conn.rollback()
            return [f.rel for f in todo_m + todo_r]
        conn.execute(BOOKKEEPING)
        todo_m, todo_r = plan(conn, migrations, repeatables)
        # Function bodies are checked when called, so files may reference each other
        # regardless of order (the usual setting of pg_dump output).
        conn.execute("SET LOCAL check_function_bodies = off")
        for m in todo_m:
            _apply(conn, m)
            conn.execute(
                "INSERT INTO ssr_meta.schema_migrations (version, filename, checksum) VALUES (%s, %s, %s)",
                (m.key, m.path.name, m.checksum),
            )
        for r in todo_r:
            _apply(conn, r)
            conn.execute(
                "INSERT INTO ssr_meta.schema_objects (path, checksum) VALUES (%s, %s) "
                "ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now()",
                (r.key, r.checksum),
            )
        if todo_m or todo_r:
            conn.execute(APPLY_PRIVILEGES)
        conn.commit()
    return [f.rel for f in todo_m + todo_r]


def split_statements(sql: str) -> list[tuple[int, str]]:
    """Split SQL into (first line, statement) pairs, minding quotes, comments and $tag$ bodies."""
    out: list[tuple[int, str]] = []
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif ch in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif ch == "$":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            if j < n and sql[j] == "$" and not sql[i + 1 : i + 2].isdigit():
                tag = sql[i : j + 1]
                k = sql.find(tag, j + 1)
                i = n if k < 0 else k + len(tag)
            else:
                i += 1
        elif ch == ";":
            out.append((start, sql[start : i + 1]))
            start = i = i + 1
        else:
            i += 1
    if sql[start:].strip():
        out.append((start, sql[start:]))
    result = []
    for pos, stmt in out:
        lead = len(stmt) - len(stmt.lstrip())
        if stmt.strip():
            result.append((sql[: pos + lead].count("\n") + 1, stmt))
    return result


def _apply(conn, f: SqlFile) -> None:
    import psycopg

    conn.execute("SAVEPOINT ssr_file")
    try:
        # No parameters: psycopg sends the file as one simple query, so it may
        # hold many statements and dollar-quoted bodies.
        conn.execute(f.sql.encode())
    except psycopg.Error as exc:
        if exc.diag.statement_position:
            raise MigrationError(describe(f, exc)) from exc
        # The server did not say where: replay statement by statement to find the line.
        conn.execute("ROLLBACK TO SAVEPOINT ssr_file")
        for line, stmt in split_statements(f.sql):
            try:
                conn.execute(stmt.encode())
            except psycopg.Error as exc2:
                pos = exc2.diag.statement_position
                body = stmt.lstrip()
                if pos:
                    line += body[: int(pos) - 1].count("\n")
                raise MigrationError(describe(f, exc2, line)) from exc2
        raise MigrationError(describe(f, exc)) from exc
    conn.execute("RELEASE SAVEPOINT ssr_file")


def psql_script(db_dir: Path = DB_DIR) -> str:
    """One file a DBA runs with plain psql; same bookkeeping and refusals as the runner."""
    parts = [
        "-- Smart Session Routing: all migrations, generated by tools/migrate.py --psql-script.",
        "-- Run with: psql -X -d DBNAME -f ssr.sql   (one transaction; safe to re-run)",
        "\\set ON_ERROR_STOP on",
        "BEGIN;",
        f"SELECT pg_advisory_xact_lock({LOCK_KEY});",
        BOOKKEEPING.strip(),
        "SET LOCAL check_function_bodies = off;",
    ]
    for m in load_migrations(db_dir):
        parts += [
            f"-- {m.rel}",
            "DO $ssr$ BEGIN IF EXISTS (SELECT 1 FROM ssr_meta.schema_migrations "
            f"WHERE version = '{m.key}' AND checksum <> '{m.checksum}') THEN "
            f"RAISE EXCEPTION '{m.rel} was edited after it was applied; restore it and add a new migration'; "
            "END IF; END $ssr$;",
            f"SELECT NOT EXISTS (SELECT 1 FROM ssr_meta.schema_migrations WHERE version = '{m.key}') AS ssr_pending \\gset",
            "\\if :ssr_pending",
            m.sql.rstrip(),
            f"INSERT INTO ssr_meta.schema_migrations (version, filename, checksum) VALUES ('{m.key}', '{m.path.name}', '{m.checksum}');",
            "\\endif",
        ]
    def repeatable(r: SqlFile) -> list[str]:
        return [
            f"-- {r.rel}",
            r.sql.rstrip(),
            f"INSERT INTO ssr_meta.schema_objects (path, checksum) VALUES ('{r.key}', '{r.checksum}') "
            "ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now();",
        ]

    for r in load_repeatables(db_dir):
        parts += repeatable(r)
    parts += [
        "-- the optional PL/Python layer: where possible, unless psql -v ssr_skip_plpython=1",
        f"{PLPYTHON_POSSIBLE} AS ssr_plpython \\gset",
        "\\if :{?ssr_skip_plpython}",
        "\\set ssr_plpython false",
        "\\endif",
        "\\if :ssr_plpython",
    ]
    for r in load_optional_plpython(db_dir):
        parts += repeatable(r)
    parts += ["\\endif", f"{APPLY_PRIVILEGES};", "COMMIT;"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--dry-run", action="store_true", help="print the SQL that would run, change nothing")
    ap.add_argument("--psql-script", action="store_true", help="print one script for plain psql")
    ap.add_argument("--skip-plpython", action="store_true",
                    help="leave out the optional PL/Python layer (db/optional/plpython) even where possible")
    ap.add_argument("--db-dir", type=Path, default=DB_DIR, help="the db/ folder (default: this project's)")
    a = ap.parse_args(argv)
    try:
        if a.psql_script:
            sys.stdout.write(psql_script(a.db_dir))
            return 0
        if not a.database_url:
            print("migrate: set DATABASE_URL or pass --database-url", file=sys.stderr)
            return 2
        done = migrate(a.database_url, dry_run=a.dry_run, db_dir=a.db_dir,
                       plpython=False if a.skip_plpython else None)
    except MigrationError as exc:
        print(f"migrate: FAILED, nothing of this run was applied: {exc}", file=sys.stderr)
        return 1
    if not a.dry_run:
        print(f"migrate: applied {len(done)} file(s)" + ("".join(f"\n  {d}" for d in done)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
