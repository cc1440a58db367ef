"""The documentation that names SQL objects stays true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIGNATURES = """
SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ')', pg_get_function_result(p.oid)
FROM pg_proc AS p JOIN pg_namespace AS n ON p.pronamespace = n.oid
WHERE n.nspname = 'public' AND p.prorettype <> 'trigger'::regtype
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
"""


def test_sql_api_doc_is_what_the_generator_makes(conn):
    """docs/SQL_API.md is generated (dev/sql_api_doc.py, `make sql-api-doc`); any drift fails."""
    from dev.sql_api_doc import render

    doc = (ROOT / "docs" / "SQL_API.md").read_text()
    assert doc == render(conn), "docs/SQL_API.md is stale: run `make sql-api-doc`"


def test_sql_api_doc_lists_every_api_function_and_the_call_graph(conn):
    doc = (ROOT / "docs" / "SQL_API.md").read_text()
    block = doc.split("```\n", 2)[1]
    documented = dict(re.findall(r"^(\w+\(.*\))\n    RETURNS (.*)$", block, flags=re.M))
    assert documented == dict(conn.execute(SIGNATURES).fetchall())
    graph = doc.split("## Call graph", 1)[1]
    assert "    -> ssr_private.assert_acting_for(text,uuid)" in graph.split("accept_session_request(uuid,uuid)\n", 1)[1]
    assert "NOT ON THE ALLOWLIST" not in doc


def test_readme_names_existing_views_and_functions(conn):
    readme = (ROOT / "README.md").read_text()
    for view in ("analytics.workshop_session_analytics", "analytics.routing_effectiveness",
                 "ssr_private.routing_available_mechanics"):
        assert view.split(".")[1] in readme
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
            "'analytics.workshop_session_analytics'::regclass, 'analytics.routing_effectiveness'::regclass)"
        )
    }
    not_columns = {"analytics", "day", "week", "month", "workshop_session_analytics", "routing_effectiveness"}
    unknown = sorted(names - columns - not_columns)
    assert unknown == []
    assert {"workshop_id", "period_grain", "period_start", "routing_type", "day"} <= columns
