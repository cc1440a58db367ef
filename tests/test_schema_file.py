"""db/schema.sql is what the migrations build; db/ files are named after their objects."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from tests.dbutil import url_for
from tools import schema

ROOT = Path(__file__).resolve().parent.parent


def test_schema_sql_matches_the_migrations(pg_server_url, migrated_template):
    built = schema.dump(url_for(pg_server_url, migrated_template))
    committed = schema.SCHEMA_FILE.read_text(encoding="utf-8")
    if built != committed:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(True), built.splitlines(True), "db/schema.sql", "migrations"))[:60])
        raise AssertionError(f"db/schema.sql differs from what the migrations build: run `make schema`\n{diff}")


def test_every_trigger_file_is_named_after_its_trigger():
    for f in sorted((ROOT / "db" / "triggers").glob("*.sql")):
        names = set(re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(\w+)", f.read_text(), re.I))
        assert names == {f.stem}, f"{f.name} creates {sorted(names)}"


def test_every_function_file_is_named_after_its_function():
    for f in sorted((ROOT / "db" / "functions").glob("*.sql")):
        names = set(re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+(?:\w+\.)?(\w+)", f.read_text(), re.I))
        assert names == {f.stem}, f"{f.name} creates {sorted(names)}"
