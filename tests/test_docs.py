"""The documentation stays true: the SQL objects it names exist, its links lead somewhere, the
`make` targets it names are real, and the README stays a five-minute read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_MAX_LINES = 200
# The manual: README.md and docs/*.md, plus bench/README.md (the figures), which they link to.
MANUAL = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
# Names written as `name(` that are not SQL functions of ours: the app's Python, Citus's API and a
# table proposed for sharding (docs/SCALING.md), aggregates.
NOT_SQL_FUNCTIONS = {"sum", "count", "call", "create_app", "success_status",
                     "create_distributed_function", "workshop_stats_delta"}

SIGNATURES = """
SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ')', pg_get_function_result(p.oid)
FROM pg_proc AS p JOIN pg_namespace AS n ON p.pronamespace = n.oid
WHERE n.nspname = 'public' AND p.prorettype <> 'trigger'::regtype
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
"""

FENCE_RE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
INLINE_CODE_RE = re.compile(r"`[^`\n]+`")
LINK_RE = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
MAKE_RE = re.compile(r"(?<![\w./-])make ([a-z][a-z0-9_-]*)")
RULE_RE = re.compile(r"^([A-Za-z0-9_.%/-]+(?:[ \t]+[A-Za-z0-9_.%/-]+)*)[ \t]*:(?![=:])", re.M)


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are not links)."""
    return INLINE_CODE_RE.sub("", FENCE_RE.sub("", text))


def _code(text: str) -> str:
    """Only the code of the text: fenced blocks and inline code spans."""
    blocks = FENCE_RE.findall(text)
    spans = INLINE_CODE_RE.findall(FENCE_RE.sub("", text))
    return "\n".join(blocks + spans)


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown text (lower case, punctuation dropped,
    spaces to hyphens; a repeated heading gets -1, -2, ...)."""
    anchors: set[str] = set()
    for _, title in HEADING_RE.findall(FENCE_RE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", title.replace("`", "").strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return anchors


def broken_links(path: Path, text: str) -> list[str]:
    """The relative links of a Markdown file that lead to no file, or to no heading of it."""
    broken = []
    for target in LINK_RE.findall(_prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest})")
        elif anchor and dest.suffix == ".md" and anchor not in heading_anchors(dest.read_text()):
            broken.append(f"{target} (no heading #{anchor} in {dest.name})")
    return broken


def makefile_targets(makefile: str) -> set[str]:
    """The targets of the Makefile's rules (not variables, not .PHONY and other specials)."""
    targets = set()
    for line in RULE_RE.findall(makefile):
        targets |= {t for t in line.split() if not t.startswith(".") and "$" not in t and "%" not in t}
    return targets


def unknown_make_targets(text: str, targets: set[str]) -> set[str]:
    """`make X` written in the code of a Markdown text where X is no target of the Makefile."""
    return {m for m in MAKE_RE.findall(_code(text)) if m not in targets}


def test_readme_is_a_five_minute_read():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move detail into docs/"


def test_every_relative_link_leads_to_a_file_and_heading():
    checked = 0
    problems = []
    for path in MANUAL:
        text = path.read_text()
        checked += len(LINK_RE.findall(_prose(text)))
        problems += [f"{path.relative_to(ROOT)}: {b}" for b in broken_links(path, text)]
    assert problems == []
    assert checked > 50, "the link pattern found almost no links: it is broken"


def test_the_link_check_catches_what_it_should():
    page = ROOT / "docs" / "ROUTING.md"
    text = ("[a](NOPE.md) [b](SECURITY.md#no-such-heading) [c](#rules) [d](../README.md#configuration) "
            "[e](https://example.com/x) `[f](ignored-in-code.md)`")
    assert broken_links(page, text) == ["NOPE.md (no file docs/NOPE.md)",
                                        "SECURITY.md#no-such-heading (no heading #no-such-heading in SECURITY.md)"]
    assert {"the-fault-suite-testsfaults", "high-availability-make-ha", "a", "a-1"} <= heading_anchors(
        "## The fault suite (`tests/faults/`)\n## High availability (`make ha`)\n# A\n## A\n")


def test_every_make_target_named_exists():
    targets = makefile_targets((ROOT / "Makefile").read_text())
    assert {"run", "test", "bench", "faults", "fuzz", "ha", "ha-failover-test", "reconcile"} <= targets
    assert not targets & {"PHONY", "SHELL", "VENV", "PG_DIR", "HOURS"}
    named = set()
    unknown = {}
    for path in MANUAL:
        text = path.read_text()
        named |= set(MAKE_RE.findall(_code(text)))
        if bad := unknown_make_targets(text, targets):
            unknown[str(path.relative_to(ROOT))] = sorted(bad)
    assert unknown == {}
    assert len(named) > 15, "the `make` pattern found almost no targets: it is broken"
    assert unknown_make_targets("`make nosuch-target` and\n```sh\nmake run\nmake bogus\n```", targets) == {
        "nosuch-target", "bogus"}


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


def test_docs_name_existing_views_and_functions(conn):
    readme = README.read_text()
    for view in ("analytics.workshop_session_analytics", "analytics.routing_effectiveness"):
        assert view.split(".")[1] in readme, view
    manual = "\n".join(p.read_text() for p in MANUAL if p.name != "SQL_API.md")
    for view in ("analytics.workshop_session_analytics", "analytics.routing_effectiveness",
                 "ssr_private.routing_available_mechanics", "ssr_private.routing_offerable_mechanics",
                 "public.session_ledger", "public.workshop_earnings"):
        assert view.split(".")[1] in manual, view
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (view,)).fetchone() == (True,), view
    for path in MANUAL[:-1]:  # bench/README.md names Python calls of the benchmark too
        for fn in sorted(set(re.findall(r"`(\w+)\(", path.read_text())) - NOT_SQL_FUNCTIONS):
            found = conn.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", (fn,)).fetchone()[0]
            assert found >= 1, f"{path.relative_to(ROOT)} names {fn}(), which is no function"


def test_bi_contract_names_real_columns(conn):
    doc = (ROOT / "docs" / "ANALYTICS.md").read_text()
    section = doc.split("\n## The contract", 1)[1].split("\n## ", 1)[0]
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
    assert len(names & columns) > 30, "the contract section names almost no columns: the split is broken"
