"""db/schema.sql is what the migrations build; db/ files are named after their objects."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from dev import schema
from tests.dbutil import url_for

ROOT = Path(__file__).resolve().parent.parent


def test_schema_sql_matches_the_migrations(pg_server_url, migrated_template):
    built = schema.dump(url_for(pg_server_url, migrated_template))
    committed = schema.SCHEMA_FILE.read_text(encoding="utf-8")
    if built != committed:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(True), built.splitlines(True), "db/schema.sql", "migrations"))[:60])
        raise AssertionError(f"db/schema.sql differs from what the migrations build: run `make schema`\n{diff}")


def test_every_trigger_file_holds_the_triggers_of_its_table_in_firing_order():
    """db/triggers/<table>.sql: every trigger on that table, BEFORE ones first, by name within each
    timing (the order PostgreSQL fires them in)."""
    trigger = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(\w+)\s+(BEFORE|AFTER|INSTEAD\s+OF)\s.*?\bON\s+(\w+)", re.I | re.S)
    files = sorted((ROOT / "db" / "triggers").glob("*.sql"))
    assert files
    for f in files:
        found = trigger.findall(f.read_text())
        assert found, f"{f.name} creates no trigger"
        assert {t for _, _, t in found} == {f.stem}, f"{f.name} creates triggers on {sorted({t for _, _, t in found})}"
        order = [(timing.upper() != "BEFORE", name) for name, timing, _ in found]
        assert order == sorted(order), f"{f.name}: triggers not in firing order: {[n for _, n in order]}"


def test_every_function_and_view_file_is_named_after_its_object():
    """db/functions/<feature>/<schema>.<name>.sql and db/views/<feature>/<schema>.<name>.sql: one object each."""
    creates = re.compile(
        r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|VIEW|MATERIALIZED\s+VIEW)\s+(?:(\w+)\.)?(\w+)", re.I
    )
    files = sorted((ROOT / "db" / "functions").rglob("*.sql")) + sorted((ROOT / "db" / "views").rglob("*.sql"))
    assert len(files) > 50
    for f in files:
        assert f.parent.parent.name in ("functions", "views"), f"{f} is not in a feature folder"
        names = {f"{schema or 'public'}.{name}" for schema, name in creates.findall(f.read_text())}
        assert names == {f.stem}, f"{f.relative_to(ROOT)} creates {sorted(names)}"


# A trigger's function is named after it: ssr_private.<job>, the one trigger named <job>, or
# ssr_private.<job>_trg, shared by the triggers named <job> or <job>_<qualifier>, the qualifier
# telling them apart by the table they are on and/or their events (_ins, _upd, _del).
TRIGGER_QUALIFIER = r"(?:_{table})?(?:_(?:ins|upd|del))*"


def test_every_trigger_calls_a_function_named_after_it(conn):
    rows = conn.execute(
        "SELECT t.tgrelid::regclass::text, t.tgname, n.nspname, p.proname FROM pg_trigger AS t "
        "JOIN pg_proc AS p ON p.oid = t.tgfoid JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE NOT t.tgisinternal ORDER BY 1, 2"
    ).fetchall()
    assert len(rows) > 40
    wrong, shared_by = [], {}
    for table, trigger, schema_name, function in rows:
        job = function.removesuffix("_trg")
        qualifier = TRIGGER_QUALIFIER.format(table=re.escape(table))
        if schema_name != "ssr_private" or not re.fullmatch(re.escape(job) + qualifier, trigger):
            wrong.append(f"{trigger} ON {table} -> {schema_name}.{function}()")
        shared_by.setdefault(function, set()).add(trigger)
    assert not wrong, f"trigger functions not named after their triggers: {wrong}"
    # A function without the _trg suffix is its trigger's own: it serves that one trigger only.
    assert {f: t for f, t in shared_by.items() if not f.endswith("_trg") and t != {f}} == {}
