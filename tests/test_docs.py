"""The documentation that names SQL objects stays true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIGNATURES = """
SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ')', pg_get_function_result(p.oid)
FROM pg_proc AS p JOIN pg_namespace AS n ON p.pronamespace = n.oid
WHERE n.nspname = 'public' AND p.prorettype <> 'trigger'::regtype
"""


def test_sql_api_doc_matches_the_database(conn):
    doc = (ROOT / "docs" / "SQL_API.md").read_text()
    block = doc.split("```\n", 2)[1]
    documented = dict(re.findall(r"^(\w+\(.*\))\n    RETURNS (.*)$", block, flags=re.M))
    actual = dict(conn.execute(SIGNATURES).fetchall())
    assert documented, "no signature found in docs/SQL_API.md"
    for signature, result in documented.items():
        assert actual.get(signature) == result, f"docs/SQL_API.md is stale for {signature}"


def test_readme_names_existing_views_and_functions(conn):
    readme = (ROOT / "README.md").read_text()
    for view in ("workshop_session_analytics", "routing_effectiveness", "routing_available_mechanics"):
        assert view in readme
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (view,)).fetchone() == (True,), view
    for fn in set(re.findall(r"`(\w+)\(", readme)):
        if fn in {"sum", "count"}:
            continue
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", (fn,)).fetchone()[0] >= 1, fn


def test_readme_bi_contract_names_real_columns(conn):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Analytics views", 1)[1].split("\n## ", 1)[0]
    contract = section.split("```sql", 1)[0]
    names = set(re.findall(r"`([a-z_0-9]+)`", contract))
    columns = {
        r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped AND attrelid IN ("
            "'workshop_session_analytics'::regclass, 'routing_effectiveness'::regclass)"
        )
    }
    not_columns = {"analytics", "day", "week", "month", "workshop_session_analytics", "routing_effectiveness"}
    unknown = sorted(names - columns - not_columns)
    assert unknown == []
    assert {"workshop_id", "period_grain", "period_start", "routing_type", "day"} <= columns
