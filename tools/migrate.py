#!/usr/bin/env python3
"""Apply the database migrations of Smart Session Routing, online-safe.

Two kinds of files live under db/:

* db/migrations/NNNN_name.sql - immutable, numbered schema changes (tables,
  columns, indexes). Each is applied once and recorded with its SHA-256 in
  ssr_meta.schema_migrations. Editing one that was applied is refused.
* db/functions/, db/views/, db/policies/, db/triggers/ - repeatable files, one object
  (or, for triggers and policies, one table) per file, written with CREATE OR REPLACE.
  Re-applied whenever its content changes (checksum in ssr_meta.schema_objects), in a
  stable order: functions, then views, then policies, then triggers; inside each folder
  (read recursively) by relative path.
* db/optional/plpython/ - the optional PL/Python layer (the language, then its
  functions), applied after the other repeatable files only where plpython3u is
  installed in the database or may be created by this role (a superuser on a server
  that has it); --skip-plpython leaves it out. Managed services do not offer it: the
  core runs without it.

A run holds a session-level advisory lock (two runners never interleave) and applies,
in this order, each step in its own transaction:

1. every pending numbered migration: one transaction per file, unless the file's
   header says `-- ssr:no-transaction` (then each statement runs on its own, for
   CREATE INDEX CONCURRENTLY; such a file must be safe to run again from the top);
2. every changed repeatable file, each in its own transaction (a trigger file locks
   its table only; no transaction holds the locks of several busy tables).
   check_function_bodies is off in each, as in pg_dump output, so a function may
   call one defined in a later file;
3. the pending numbered migrations whose header says `-- ssr:after-objects`
   (backfills and clean-ups that need the objects of step 2), as in step 1;
4. when anything was applied: ssr_private.apply_privileges(), which grants exactly the
   allowlist of API functions (db/functions/security/ssr_private.api_functions.sql) and nothing else.

The psql script (--psql-script) emits the same steps in the same order, with the same
transactions, bookkeeping and refusals.

Every step runs under a short `lock_timeout`; when a lock is not granted in time the
step is rolled back and retried with backoff (a message says so), so a migration
waiting for a busy table never queues the application's queries behind it for
longer than the timeout. CONCURRENTLY and VALIDATE CONSTRAINT statements, which
block no application query while they wait, get a longer timeout. A failure names
the file and line; the steps before it stay applied and a re-run continues.

    python tools/migrate.py [--database-url URL] [--dry-run] [--lock-timeout 250ms] [--skip-plpython]
    python tools/migrate.py --psql-script > ssr.sql   # for `psql -f`, no Python
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_DIR = ROOT / "db"
REPEATABLE_DIRS = ("functions", "views", "policies", "triggers")
OPTIONAL_PLPYTHON = ("optional/plpython/language.sql", "optional/plpython/functions")
# Whether the optional PL/Python layer can be applied by this role in this database.
PLPYTHON_POSSIBLE = (
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'plpython3u') "
    "OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plpython3u') "
    "AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))"
)
APPLY_PRIVILEGES = "SELECT ssr_private.apply_privileges()"
HAS_APPLY_PRIVILEGES = "SELECT to_regprocedure('ssr_private.apply_privileges()') IS NOT NULL"
# pg_advisory_lock key: the first 8 bytes of sha256("smart-session-routing:migrate")
LOCK_KEY = int.from_bytes(hashlib.sha256(b"smart-session-routing:migrate").digest()[:8], "big", signed=True)
MARKERS = ("no-transaction", "after-objects")
MARKER_RE = re.compile(r"^--\s*ssr:([A-Za-z0-9_-]+)\s*$")
# Statements that block no application query while they wait for their lock.
PATIENT_RE = re.compile(r"\bCONCURRENTLY\b|\bVALIDATE\s+CONSTRAINT\b", re.I)
CIC_RE = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"]+)\s+ON\b", re.I
)
RETRYABLE = ("55P03", "40P01")  # lock_not_available (lock_timeout), deadlock_detected

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


class _Retryable(Exception):
    """A step did not get its lock in time (or lost a deadlock): roll back and retry."""


@dataclass(frozen=True)
class LockPolicy:
    """How long one step may wait for a lock, and how long to keep retrying it."""

    lock_timeout: str = "250ms"  # what the application may be queued behind us, at most
    patient_lock_timeout: str = "60s"  # CONCURRENTLY / VALIDATE CONSTRAINT: they block nobody
    retry_for: float = 600.0  # seconds of retries per step before giving up
    backoff_first: float = 0.25
    backoff_max: float = 5.0


@dataclass(frozen=True)
class SqlFile:
    path: Path
    key: str  # version for migrations, relative path for repeatables
    sql: str
    markers: frozenset[str] = field(default_factory=frozenset)

    @property
    def repeatable(self) -> bool:
        """A function, view, policy, trigger or optional-layer file (keyed by its path under db/)."""
        return "/" in self.key

    @property
    def rel(self) -> str:
        """The path as a DBA sees it: db/migrations/0001_base_schema.sql."""
        if self.repeatable:
            return f"db/{self.key}"
        return f"{self.path.parent.parent.name}/{self.path.parent.name}/{self.path.name}"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def transactional(self) -> bool:
        return "no-transaction" not in self.markers

    @property
    def after_objects(self) -> bool:
        return "after-objects" in self.markers


def header_markers(path: Path, sql: str) -> frozenset[str]:
    """The `-- ssr:<marker>` lines of the file's leading comment block."""
    found = set()
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        m = MARKER_RE.match(stripped)
        if m:
            if m.group(1) not in MARKERS:
                raise MigrationError(f"{path}: unknown marker ssr:{m.group(1)} (known: {', '.join(MARKERS)})")
            found.add(m.group(1))
    return frozenset(found)


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
        sql = p.read_text(encoding="utf-8")
        out.append(SqlFile(p, version, sql, header_markers(p, sql)))
    return sorted(out, key=lambda f: int(f.key))


def load_repeatables(db_dir: Path = DB_DIR) -> list[SqlFile]:
    out: list[SqlFile] = []
    for sub in REPEATABLE_DIRS:
        for p in sorted((db_dir / sub).rglob("*.sql")):
            out.append(SqlFile(p, p.relative_to(db_dir).as_posix(), p.read_text(encoding="utf-8")))
    return out


def load_optional_plpython(db_dir: Path = DB_DIR) -> list[SqlFile]:
    """The optional PL/Python layer: the language first, then its functions by file name."""
    language, functions = (db_dir / OPTIONAL_PLPYTHON[0]), (db_dir / OPTIONAL_PLPYTHON[1])
    files = ([language] if language.exists() else []) + sorted(functions.glob("*.sql"))
    return [SqlFile(p, p.relative_to(db_dir).as_posix(), p.read_text(encoding="utf-8")) for p in files]


def run_order(migrations: list[SqlFile], repeatables: list[SqlFile]) -> list[SqlFile]:
    """The order a run applies files in: migrations, objects, after-objects migrations."""
    return (
        [m for m in migrations if not m.after_objects] + repeatables + [m for m in migrations if m.after_objects]
    )


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


def _say(msg: str) -> None:
    print(f"migrate: {msg}", file=sys.stderr, flush=True)


class _Runner:
    """Applies steps on one autocommit connection holding the advisory lock."""

    def __init__(self, conn, policy: LockPolicy, say=_say):
        self.conn = conn
        self.policy = policy
        self.say = say

    # -- retries ---------------------------------------------------------------
    def step(self, what: str, fn) -> None:
        """Run fn() (one transaction or one statement); retry it while it times out on a lock."""
        deadline = time.monotonic() + self.policy.retry_for
        delay = self.policy.backoff_first
        attempt = 1
        while True:
            try:
                fn()
                if attempt > 1:
                    self.say(f"{what}: done at attempt {attempt}")
                return
            except _Retryable as exc:
                if time.monotonic() + delay > deadline:
                    raise MigrationError(
                        f"{exc} - gave up after {attempt} attempts in {self.policy.retry_for:g} s; "
                        f"the steps before it are applied: run again when the table is less busy"
                    ) from exc
                pause = delay * random.uniform(0.5, 1.0)
                self.say(f"{exc}; waiting {pause:.1f} s, then attempt {attempt + 1}{self.oldest_transaction()}")
                time.sleep(pause)
                delay = min(delay * 2, self.policy.backoff_max)
                attempt += 1

    def oldest_transaction(self) -> str:
        """The oldest other open transaction of this database: usually what holds the lock."""
        import psycopg

        try:
            row = self.conn.execute(
                "SELECT pid, extract(epoch FROM clock_timestamp() - xact_start), state, left(query, 60) "
                "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND xact_start IS NOT NULL AND backend_type = 'client backend' ORDER BY xact_start LIMIT 1"
            ).fetchone()
        except psycopg.Error:  # a hint only; never fail the run for it
            return ""
        if not row:
            return ""
        query = " ".join((row[3] or "").split())
        return f" (oldest open transaction: pid {row[0]}, {row[2]}, open {float(row[1]):.1f} s: {query!r})"

    def _raise(self, f: SqlFile, exc, line: int | None = None, timeout: str | None = None):
        desc = describe(f, exc, line)
        if getattr(exc, "sqlstate", None) in RETRYABLE:
            raise _Retryable(f"{desc} [lock_timeout {timeout or self.policy.lock_timeout}]") from exc
        raise MigrationError(desc) from exc

    # -- one transaction -------------------------------------------------------
    def transaction(self, files: list[SqlFile], record) -> None:
        """Apply `files` in one transaction with the short lock_timeout; record each."""
        import psycopg

        conn = self.conn
        try:
            with conn.transaction():
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (self.policy.lock_timeout,))
                # Function bodies are checked when called, so files may reference each other
                # regardless of order (the usual setting of pg_dump output).
                conn.execute("SET LOCAL check_function_bodies = off")
                for f in files:
                    self._file_in_transaction(f)
                    record(f)
        except psycopg.Error as exc:  # raised by COMMIT itself (e.g. a deferred check)
            raise MigrationError(describe(files[-1], exc)) from exc

    def _file_in_transaction(self, f: SqlFile) -> None:
        import psycopg

        conn = self.conn
        conn.execute("SAVEPOINT ssr_file")
        try:
            # No parameters: psycopg sends the file as one simple query, so it may
            # hold many statements and dollar-quoted bodies.
            conn.execute(f.sql.encode())
        except psycopg.Error as exc:
            if exc.diag.statement_position or exc.sqlstate in RETRYABLE:
                self._raise(f, exc)
            # The server did not say where: replay statement by statement to find the line.
            conn.execute("ROLLBACK TO SAVEPOINT ssr_file")
            for line, stmt in split_statements(f.sql):
                try:
                    conn.execute(stmt.encode())
                except psycopg.Error as exc2:
                    pos = exc2.diag.statement_position
                    if pos:
                        line += stmt.lstrip()[: int(pos) - 1].count("\n")
                    self._raise(f, exc2, line)
            self._raise(f, exc)
        conn.execute("RELEASE SAVEPOINT ssr_file")

    def privileges(self) -> None:
        """Grant exactly the allowlist of API functions (one transaction, short lock_timeout)."""
        import psycopg

        try:
            with self.conn.transaction():
                self.conn.execute("SELECT set_config('lock_timeout', %s, true)", (self.policy.lock_timeout,))
                self.conn.execute(APPLY_PRIVILEGES)
        except psycopg.Error as exc:
            if exc.sqlstate in RETRYABLE:
                raise _Retryable(f"ssr_private.apply_privileges(): {exc}") from exc
            raise MigrationError(f"ssr_private.apply_privileges(): {exc}") from exc

    # -- statement by statement ------------------------------------------------
    def statements(self, f: SqlFile) -> None:
        """A `-- ssr:no-transaction` file: each statement on its own, each retried alone."""
        for line, stmt in split_statements(f.sql):
            self.step(f"{f.rel}:{line}", lambda line=line, stmt=stmt: self._statement(f, line, stmt))

    def _statement(self, f: SqlFile, line: int, stmt: str) -> None:
        import psycopg

        conn = self.conn
        patient = bool(PATIENT_RE.search(strip_comments(stmt)))
        timeout = self.policy.patient_lock_timeout if patient else self.policy.lock_timeout
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (timeout,))
        conn.execute("SET check_function_bodies = off")
        cic = CIC_RE.match(strip_comments(stmt))
        try:
            if cic:
                self.drop_invalid_index(cic.group(1))
            conn.execute(stmt.encode())
        except psycopg.Error as exc:
            pos = exc.diag.statement_position
            if pos:
                line += stmt.lstrip()[: int(pos) - 1].count("\n")
            self._raise(f, exc, line, timeout)
        finally:
            conn.execute("RESET check_function_bodies")

    def drop_invalid_index(self, name: str) -> None:
        """An INVALID index of that name is what an interrupted CREATE INDEX CONCURRENTLY leaves."""
        row = self.conn.execute(
            "SELECT i.indexrelid::regclass::text FROM pg_index AS i "
            "WHERE i.indexrelid = to_regclass(%s) AND NOT i.indisvalid",
            (name,),
        ).fetchone()
        if row:
            self.say(f"dropping the INVALID index {row[0]} left by an interrupted CREATE INDEX CONCURRENTLY")
            self.conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {row[0]}")


def migrate(
    database_url: str,
    dry_run: bool = False,
    db_dir: Path = DB_DIR,
    out=sys.stdout,
    policy: LockPolicy | None = None,
    target: str | None = None,
    say=_say,
    plpython: bool | None = None,
) -> list[str]:
    """Apply what is pending; returns the relative paths applied (or to apply, for a dry run).

    `target` (a version): apply the numbered migrations up to it only, no object files
    (how the benchmark and the tests build the marketplace as it was before).
    `plpython`: apply the optional PL/Python layer (None: where possible; False: never).
    """
    import psycopg

    policy = policy or LockPolicy()
    migrations = load_migrations(db_dir)
    repeatables = load_repeatables(db_dir)
    if target is not None:
        migrations = [m for m in migrations if int(m.key) <= int(target)]
        repeatables = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = 0")
        # Poll instead of waiting inside pg_advisory_lock(): a waiting statement is an open
        # transaction, and the other run's CREATE INDEX CONCURRENTLY would wait for it (deadlock).
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            say("another migration run holds the lock; waiting for it to finish")
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                time.sleep(0.2)
        try:
            if target is None and plpython is not False and conn.execute(PLPYTHON_POSSIBLE).fetchone()[0]:
                repeatables = repeatables + load_optional_plpython(db_dir)
            has_meta = conn.execute("SELECT to_regclass('ssr_meta.schema_objects') IS NOT NULL").fetchone()[0]
            if dry_run:
                todo_m, todo_r = plan(conn, migrations, repeatables) if has_meta else (migrations, repeatables)
                todo = run_order(todo_m, todo_r)
                for f in todo:
                    how = ", ".join(sorted(f.markers)) or "one transaction"
                    print(f"-- {f.rel} (sha256 {f.checksum[:12]}; {how})", file=out)
                    print(f.sql.rstrip() + "\n", file=out)
                return [f.rel for f in todo]
            if not has_meta:
                with conn.transaction():
                    conn.execute(BOOKKEEPING)
            todo_m, todo_r = plan(conn, migrations, repeatables)
            runner = _Runner(conn, policy, say)
            done = _apply_all(runner, todo_m, todo_r)
            if target is None:  # forget files that no longer exist (their objects were dropped by others)
                keep = [r.key for r in repeatables + load_optional_plpython(db_dir)]
                conn.execute("DELETE FROM ssr_meta.schema_objects WHERE NOT (path = ANY (%s))", (keep,))
            if done and conn.execute(HAS_APPLY_PRIVILEGES).fetchone()[0]:
                runner.step("privileges (ssr_private.apply_privileges)", lambda: runner.privileges())
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _apply_all(run: _Runner, todo_m, todo_r) -> list[str]:
    conn = run.conn
    done: list[str] = []

    def record_migration(m: SqlFile) -> None:
        conn.execute(
            "INSERT INTO ssr_meta.schema_migrations (version, filename, checksum) VALUES (%s, %s, %s)",
            (m.key, m.path.name, m.checksum),
        )

    def record_object(r: SqlFile) -> None:
        conn.execute(
            "INSERT INTO ssr_meta.schema_objects (path, checksum) VALUES (%s, %s) "
            "ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now()",
            (r.key, r.checksum),
        )

    def migration(m: SqlFile) -> None:
        if m.transactional:
            run.step(m.rel, lambda: run.transaction([m], record_migration))
        else:
            run.statements(m)
            record_migration(m)
        done.append(m.rel)

    # One transaction per file, in run order. A trigger file locks its table only: one
    # transaction holding the locks of several busy tables would wait in a cycle with the
    # application's transactions, which write those tables in either order (insert a session
    # then its request; accept a request then update its session), and time out again and again.
    for f in run_order(todo_m, todo_r):
        if f.repeatable:
            run.step(f.rel, lambda f=f: run.transaction([f], record_object))
            done.append(f.rel)
        else:
            migration(f)
    return done


def strip_comments(sql: str) -> str:
    """The statement without its leading comment lines (markers, explanations)."""
    lines = sql.lstrip().splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


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
        if not strip_comments(stmt).strip():
            continue  # a trailing comment, no statement
        lead = len(stmt) - len(stmt.lstrip())
        result.append((sql[: pos + lead].count("\n") + 1, stmt))
    return result


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def psql_script(db_dir: Path = DB_DIR, policy: LockPolicy | None = None) -> str:
    """One file a DBA runs with plain psql; same steps, bookkeeping and refusals as the runner.

    psql cannot retry: when a lock is not granted within lock_timeout the script stops
    (ON_ERROR_STOP); what it applied is recorded, so running it again continues.
    """
    policy = policy or LockPolicy()
    migrations = load_migrations(db_dir)
    repeatables = load_repeatables(db_dir)
    rows = ",\n    ".join(f"({_q(m.key)}, {_q(m.checksum)}, {_q(m.rel)})" for m in migrations)
    parts = [
        "-- Smart Session Routing: all migrations, generated by tools/migrate.py --psql-script.",
        "-- Run with: psql -X -d DBNAME -f ssr.sql   (safe to re-run; each step is recorded)",
        "-- Each step waits at most lock_timeout for a lock; when a table is busy the script stops",
        "-- with 'canceling statement due to lock timeout': run it again (or pass",
        "-- -v ssr_lock_timeout=2s). -v ssr_lock_timeout=0 waits without limit.",
        "\\set ON_ERROR_STOP on",
        f"\\if :{{?ssr_lock_timeout}}\n\\else\n\\set ssr_lock_timeout {policy.lock_timeout}\n\\endif",
        f"\\if :{{?ssr_patient_lock_timeout}}\n\\else\n\\set ssr_patient_lock_timeout {policy.patient_lock_timeout}\n\\endif",
        "SET lock_timeout = 0;",
        # Refuse rather than wait: a psql session waiting for the lock is an open transaction
        # that the other run's CREATE INDEX CONCURRENTLY would wait for.
        f"SELECT pg_try_advisory_lock({LOCK_KEY}) AS ssr_locked \\gset",
        "\\if :ssr_locked\n\\else",
        "DO $ssr$ BEGIN RAISE EXCEPTION 'another migration run holds the lock: run this script again once it is done'; "
        "END $ssr$;",
        "\\endif",
        "BEGIN;",
        BOOKKEEPING.strip(),
        "COMMIT;",
        "DO $ssr$\nDECLARE v_edited text;\nBEGIN\n"
        "    SELECT string_agg(f.rel, ', ' ORDER BY f.version) INTO v_edited\n"
        f"    FROM (VALUES\n    {rows}\n    ) AS f (version, checksum, rel)\n"
        "    JOIN ssr_meta.schema_migrations AS m ON m.version = f.version\n"
        "    WHERE m.checksum <> f.checksum;\n"
        "    IF v_edited IS NOT NULL THEN\n"
        "        RAISE EXCEPTION '% was edited after it was applied; restore it and add a new migration', v_edited;\n"
        "    END IF;\nEND\n$ssr$;",
        "SET lock_timeout = :'ssr_lock_timeout';",
        "-- the optional PL/Python layer: where possible (decided before any step, as by the runner),",
        "-- unless psql -v ssr_skip_plpython=1",
        f"{PLPYTHON_POSSIBLE} AS ssr_plpython \\gset",
        "\\if :{?ssr_skip_plpython}",
        "\\set ssr_plpython false",
        "\\endif",
        "\\set ssr_done false",
    ]
    record_migration = "INSERT INTO ssr_meta.schema_migrations (version, filename, checksum) VALUES ({}, {}, {});"
    record_object = (
        "INSERT INTO ssr_meta.schema_objects (path, checksum) VALUES ({}, {}) "
        "ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now();"
    )

    def migration(m: SqlFile) -> list[str]:
        out = [
            f"-- step {len(steps)}: {m.rel}" + (f" ({', '.join(sorted(m.markers))})" if m.markers else ""),
            f"SELECT NOT EXISTS (SELECT 1 FROM ssr_meta.schema_migrations WHERE version = {_q(m.key)}) AS ssr_pending \\gset",
            "\\if :ssr_pending",
            "\\set ssr_done true",
        ]
        record = record_migration.format(_q(m.key), _q(m.path.name), _q(m.checksum))
        if m.transactional:
            out += ["BEGIN;", "SET LOCAL check_function_bodies = off;", m.sql.rstrip(), record, "COMMIT;"]
        else:
            out.append("SET check_function_bodies = off;")
            for _, stmt in split_statements(m.sql):
                body = strip_comments(stmt)
                cic = CIC_RE.match(body)
                if cic:
                    out.append(
                        "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %s', i.indexrelid::regclass) "
                        f"FROM pg_index AS i WHERE i.indexrelid = to_regclass({_q(cic.group(1))}) "
                        "AND NOT i.indisvalid \\gexec"
                    )
                if PATIENT_RE.search(body):
                    out += ["SET lock_timeout = :'ssr_patient_lock_timeout';", stmt.strip(),
                            "SET lock_timeout = :'ssr_lock_timeout';"]
                else:
                    out.append(stmt.strip())
            out += ["RESET check_function_bodies;", record]
        out.append("\\endif")
        return out

    def repeatable(r: SqlFile) -> list[str]:
        return [
            f"-- step {len(steps)}: {r.rel}",
            f"SELECT NOT EXISTS (SELECT 1 FROM ssr_meta.schema_objects WHERE path = {_q(r.key)} "
            f"AND checksum = {_q(r.checksum)}) AS ssr_changed \\gset",
            "\\if :ssr_changed",
            "\\set ssr_done true",
            "BEGIN;",
            "SET LOCAL check_function_bodies = off;",
            r.sql.rstrip(),
            record_object.format(_q(r.key), _q(r.checksum)),
            "COMMIT;",
            "\\endif",
        ]

    # The runner's steps in the runner's order (run_order), the optional layer in its place
    # at the end of the repeatable files, behind the \if that stands for the runner's check.
    optional = load_optional_plpython(db_dir)
    in_optional = False
    steps: list[SqlFile] = []
    for f in run_order(migrations, repeatables + optional):
        steps.append(f)
        if (f in optional) != in_optional:
            in_optional = not in_optional
            parts.append("\\if :ssr_plpython" if in_optional else "\\endif")
        parts += repeatable(f) if f.repeatable else migration(f)
    if in_optional:
        parts.append("\\endif")
    keys = ", ".join(_q(r.key) for r in repeatables + optional)
    parts += [
        "-- forget files that no longer exist (their objects were dropped by others)",
        f"DELETE FROM ssr_meta.schema_objects WHERE path NOT IN ({keys});",
        "-- when anything was applied: the allowlist of API functions, granted exactly",
        "\\if :ssr_done",
        f"{HAS_APPLY_PRIVILEGES} AS ssr_has_privileges \\gset",
        "\\if :ssr_has_privileges",
        f"{APPLY_PRIVILEGES} \\g /dev/null",
        "\\endif",
        "\\endif",
        f"SELECT pg_advisory_unlock({LOCK_KEY}) \\g /dev/null",
    ]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    d = LockPolicy()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--dry-run", action="store_true", help="print the SQL that would run, change nothing")
    ap.add_argument("--psql-script", action="store_true", help="print one script for plain psql")
    ap.add_argument("--db-dir", type=Path, default=DB_DIR, help="the db/ folder (default: this project's)")
    ap.add_argument("--target", help="apply the numbered migrations up to this version only, no object files")
    ap.add_argument("--skip-plpython", action="store_true",
                    help="leave out the optional PL/Python layer (db/optional/plpython) even where possible")
    ap.add_argument(
        "--lock-timeout", default=os.environ.get("MIGRATE_LOCK_TIMEOUT", d.lock_timeout),
        help=f"longest wait for a lock per step before it is retried (default {d.lock_timeout}; "
        "env MIGRATE_LOCK_TIMEOUT)",
    )
    ap.add_argument(
        "--patient-lock-timeout", default=os.environ.get("MIGRATE_PATIENT_LOCK_TIMEOUT", d.patient_lock_timeout),
        help=f"the same for CONCURRENTLY and VALIDATE CONSTRAINT statements (default {d.patient_lock_timeout})",
    )
    ap.add_argument(
        "--retry-for", type=float, default=float(os.environ.get("MIGRATE_RETRY_FOR", d.retry_for)),
        help=f"seconds to keep retrying one step before giving up (default {d.retry_for:g}; env MIGRATE_RETRY_FOR)",
    )
    a = ap.parse_args(argv)
    policy = LockPolicy(a.lock_timeout, a.patient_lock_timeout, a.retry_for)
    try:
        if a.psql_script:
            sys.stdout.write(psql_script(a.db_dir, policy))
            return 0
        if not a.database_url:
            print("migrate: set DATABASE_URL or pass --database-url", file=sys.stderr)
            return 2
        done = migrate(a.database_url, dry_run=a.dry_run, db_dir=a.db_dir, policy=policy, target=a.target,
                       plpython=False if a.skip_plpython else None)
    except MigrationError as exc:
        print(
            f"migrate: FAILED: {exc}\nmigrate: the failed step was rolled back; the steps before it are applied "
            "and recorded: fix the cause and run again to continue",
            file=sys.stderr,
        )
        return 1
    if not a.dry_run:
        print(f"migrate: applied {len(done)} file(s)" + ("".join(f"\n  {d}" for d in done)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
