"""The design note's own checks hold on every install: a fresh one and one upgraded from each
earlier release (tests/releases.py). The note is the contract a DBA checks a release against:
its "Verify Migration" queries (tests/design_note/verify.sql, copied literally) run as the
owner with the default search_path, and every object it names exists under its name."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from tests import releases
from tests.dbutil import create_database, drop_database, load_seeds, url_for
from tools.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
VERIFY = ROOT / "tests" / "design_note" / "verify.sql"

# What the note names (its "Indexes Created", "Functions Created", "Triggers", "Views").
NOTE_INDEXES = {
    "session_requests_workshop_id_idx": ("session_requests", "workshop_id"),
    "session_requests_preferred_workshop_idx": ("session_requests", "preferred_workshop_id"),
    "session_requests_routing_type_idx": ("session_requests", "routing_type"),
    "sessions_workshop_id_idx": ("sessions", "workshop_id"),
    "sessions_preferred_workshop_idx": ("sessions", "preferred_workshop_id"),
}
# The leading columns the note shows for each result (it elides the rest with "...").
NOTE_COLUMNS = {
    "get_mechanics_for_routing": ["mechanic_id", "priority_score"],
    "get_workshop_directory": ["workshop_id", "workshop_name", "available_mechanics"],
}


def statements() -> list[str]:
    """verify.sql cut into statements (no semicolon inside any of them)."""
    text = "\n".join(line for line in VERIFY.read_text().splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


def seed(url: str) -> None:
    """The demo data, so that the note's queries return rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        load_seeds(conn)


def a_workshop(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT id::text FROM organizations WHERE status = 'active' ORDER BY id LIMIT 1").fetchone()[0]


def run_verify(url: str) -> list[list[tuple[str, str]]]:
    """Every statement of the note, as the owner with the default search_path: the shape
    (column name, type) of each result. Any error fails the test, naming the statement."""
    shapes = []
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SHOW search_path").fetchone()[0] == '"$user", public'
        workshop = a_workshop(conn)
        for sql in statements():
            sql = sql.replace("WORKSHOP_UUID_HERE", workshop).replace("workshop-uuid", workshop)
            try:
                cur = conn.execute(sql)
            except psycopg.Error as exc:
                pytest.fail(f"the design note's query fails: {sql!r}: {exc}")
            shapes.append([(c.name, conn.adapters.types.get(c.type_code).name) for c in cur.description])
    return shapes


def check_names(url: str, shapes: list) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for index, (table, column) in NOTE_INDEXES.items():
            row = conn.execute(
                """
                SELECT i.indrelid::regclass::text, a.attname
                FROM pg_index AS i
                JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indexrelid = to_regclass(%s) AND i.indisvalid
                """,
                (index,),
            ).fetchone()
            assert row == (table, column), f"index {index}: expected a valid index led by {table}.{column}, got {row}"
        triggers = conn.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'session_request_populate_workshop'"
        ).fetchall()
        assert triggers == [("session_requests",)]
    by_function = {}
    for sql, shape in zip(statements(), shapes, strict=True):
        m = re.search(r"FROM (get_\w+)\(", sql)
        if m:
            by_function.setdefault(m.group(1), shape)
    for function, leading in NOTE_COLUMNS.items():
        names = [name for name, _ in by_function[function]]
        assert [n for n in names if n in leading] == leading, f"{function} returns {names}, the note shows {leading}"
    sr, s = shapes[1], shapes[2]
    assert [n for n, _ in sr] == ["id", "customer_id", "workshop_id", "preferred_workshop_id", "routing_type"]
    assert [n for n, _ in s] == ["id", "workshop_id", "preferred_workshop_id"]


@pytest.fixture(scope="module")
def fresh_shapes(pg_server_url):
    name = create_database(pg_server_url, prefix="ssr_note")
    try:
        url = url_for(pg_server_url, name)
        migrate(url)
        seed(url)
        shapes = run_verify(url)
        check_names(url, shapes)
        return shapes
    finally:
        drop_database(pg_server_url, name)


def test_the_design_notes_checks_pass_on_a_fresh_install(fresh_shapes):
    # the analytics view answers under its note name with the same columns as analytics.workshop_session_analytics
    assert fresh_shapes[5] == fresh_shapes[-1]
    assert len(fresh_shapes[5]) >= 5


def test_the_public_analytics_view_is_the_bi_schemas_view(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        cols = [
            conn.execute(
                "SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (rel,),
            ).fetchone()[0]
            for rel in ("public.workshop_session_analytics", "analytics.workshop_session_analytics")
        ]
    assert cols[0] == cols[1]


@pytest.mark.parametrize("release", sorted(releases.RELEASES))
def test_the_design_notes_checks_pass_after_an_upgrade(release, pg_server_url, fresh_shapes, tmp_path):
    name = create_database(pg_server_url, prefix="ssr_upg")
    try:
        url = url_for(pg_server_url, name)
        releases.install(releases.RELEASES[release], url, tmp_path)
        migrate(url)
        seed(url)
        shapes = run_verify(url)
        check_names(url, shapes)
        assert shapes == fresh_shapes, "an upgraded install answers the note's queries with another shape"
    finally:
        drop_database(pg_server_url, name)


def test_renaming_the_notes_indexes_blocks_no_reader_or_writer(db_url):
    """0090's ALTER INDEX ... RENAME, held open in a transaction, leaves the tables' reads and
    writes going: it locks the index SHARE UPDATE EXCLUSIVE and the table not at all."""
    sql = (ROOT / "db" / "migrations" / "0090_design_note_index_names.sql").read_text()
    renames = re.findall(r"^ALTER INDEX IF EXISTS (\w+) RENAME TO (\w+);", sql, flags=re.M)
    assert len(renames) == 4
    with psycopg.connect(db_url) as ddl, psycopg.connect(db_url, autocommit=True) as app:
        for new, old in ((new, old) for old, new in renames):  # the installed names back to the old ones
            ddl.execute(f"ALTER INDEX {new} RENAME TO {old}")
        modes = dict(ddl.execute(
            "SELECT c.relname, string_agg(DISTINCT l.mode, ',') FROM pg_locks AS l JOIN pg_class AS c ON c.oid = l.relation "
            "WHERE l.pid = pg_backend_pid() AND c.relname NOT LIKE 'pg\\_%' GROUP BY 1").fetchall())
        assert modes == {old: "ShareUpdateExclusiveLock" for old, _ in renames}, modes
        app.execute("SET lock_timeout = '2s'")
        app.execute("SELECT count(*) FROM sessions WHERE workshop_id IS NOT NULL").fetchone()
        app.execute("UPDATE session_requests SET routing_type = routing_type WHERE false")
        app.execute("UPDATE sessions SET workshop_id = workshop_id WHERE false")
        ddl.rollback()
