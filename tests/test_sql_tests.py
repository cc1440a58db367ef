"""The SQL tests a DBA runs (pgTAP, db/tests/*.sql, `make installcheck`) pass here too:
pg_prove on a copy of the migrated database, exactly as installcheck runs them."""

from __future__ import annotations

from dev.installcheck import TESTS, pg_prove


def test_pgtap_files_cover_the_promised_areas():
    names = {p.stem for p in TESTS.glob("*.sql")}
    assert {"routing_scores", "errors", "rls", "grants", "accept_rules"} <= names


def test_pg_prove_passes_every_sql_test(conn, db_url):
    conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
    files = sorted(TESTS.glob("*.sql"))
    res = pg_prove(db_url, files)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "All tests successful." in res.stdout, res.stdout
    assert f"Files={len(files)}," in res.stdout
    # the files roll back: nothing they made is left behind
    assert conn.execute("SELECT count(*) FROM mechanics WHERE email LIKE '%%@m.example'").fetchone() == (0,)


def test_pg_prove_reports_a_failing_test(conn, db_url, tmp_path):
    conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
    bad = tmp_path / "wrong.sql"
    bad.write_text("BEGIN;\nSELECT plan(1);\nSELECT is((SELECT count(*)::integer FROM plans), -1, 'never');\n"
                   "SELECT * FROM finish();\nROLLBACK;\n")
    res = pg_prove(db_url, [bad])
    assert res.returncode != 0
    assert "Result: FAIL" in res.stdout
