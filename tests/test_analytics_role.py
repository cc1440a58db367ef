"""The read-only `analytics` role: reads the analytics views, nothing else.

Each check runs `SET LOCAL ROLE analytics` inside a transaction of a superuser
connection, exactly what a BI tool logged in as (a member of) analytics gets.
"""

from __future__ import annotations

import psycopg
import pytest

VIEWS = [
    "workshop_session_analytics",
    "routing_effectiveness",
    "session_ledger",
    "workshop_earnings",
]
# Routing experiments' views (empty in the seed: tests/test_experiments.py reads them as analytics).
EXPERIMENT_VIEWS = ["experiment_results", "experiment_windows"]
# Kept in public for readers of the name it had there, with the grant it had there.
COMPAT_VIEWS = ["public.workshop_session_analytics"]
OPTIONAL_VIEWS = ["routing_explanations", "experiment_analysis"]  # the optional PL/Python layer (the test cluster has it)
# The dispatcher's statistics: the seed has no offer rows (tests/test_dispatch_offers.py reads it with some).
OFFER_VIEWS = ["offer_statistics"]

# SECURITY DEFINER functions that a role other than the owner may run, and who may.
DEFINER_FUNCTIONS_FOR_MECHANICS = {"accept_session_request(uuid,uuid)", "get_mechanic_offers(uuid,integer)"}


def as_analytics(conn, sql: str, params=None):
    with conn.transaction():
        conn.execute("SET LOCAL ROLE analytics")
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else None


def test_role_is_nologin_and_powerless(conn):
    row = conn.execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit "
        "FROM pg_roles WHERE rolname = 'analytics'"
    ).fetchone()
    assert row is not None, "role analytics missing"
    assert row[:6] == (False, False, False, False, False, False)
    memberships = conn.execute(
        "SELECT count(*) FROM pg_auth_members WHERE member = 'analytics'::regrole"
    ).fetchone()[0]
    assert memberships == 0
    settings = conn.execute(
        "SELECT setconfig FROM pg_db_role_setting WHERE setrole = 'analytics'::regrole AND setdatabase = 0"
    ).fetchone()
    assert settings is not None and "default_transaction_read_only=true" in settings[0]


@pytest.mark.parametrize("view", VIEWS)
def test_analytics_reads_the_views(seeded_conn, view):
    seeded_conn.execute("SELECT * FROM ssr_private.refresh_analytics()")
    expected = seeded_conn.execute(f"SELECT count(*) FROM analytics.{view}").fetchone()[0]
    assert expected > 0
    # unqualified: the role finds schema analytics through its default search_path ("$user", public)
    assert as_analytics(seeded_conn, f"SELECT count(*) FROM {view}") == [(expected,)]


def test_analytics_reads_the_routing_explanations(seeded_conn):
    """Staff read the routing story of a request (PL/Python narrative) without any table grant."""
    customer, plan = seeded_conn.execute("SELECT (SELECT id FROM customers ORDER BY id LIMIT 1), "
                                         "(SELECT code FROM plans WHERE is_active ORDER BY code LIMIT 1)").fetchone()
    rid = seeded_conn.execute("SELECT id FROM ssr_private.create_session_request(%s, %s, NULL, NULL, NULL, 'broadcast')",
                              (customer, plan)).fetchone()[0]
    expected = "\n".join(n for (n,) in seeded_conn.execute(
        "SELECT narrative FROM ssr_private.explain_routing(%s) ORDER BY step", (rid,)).fetchall())
    assert expected.startswith("Created with routing broadcast")
    got = as_analytics(seeded_conn, "SELECT narrative FROM routing_explanations WHERE session_request_id = %s", (rid,))
    assert got == [(expected,)]


def test_analytics_cannot_read_any_other_relation(seeded_conn):
    relations = seeded_conn.execute(
        """
        SELECT format('%%I.%%I', n.nspname, c.relname)
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp%%' AND n.nspname NOT LIKE 'pg_toast_temp%%'
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT (n.nspname = 'analytics' AND c.relname = ANY (%s))
          AND NOT format('%%I.%%I', n.nspname, c.relname) = ANY (%s)
        ORDER BY 1
        """,
        (VIEWS + OPTIONAL_VIEWS + EXPERIMENT_VIEWS + OFFER_VIEWS, COMPAT_VIEWS),
    ).fetchall()
    names = [r[0] for r in relations]
    for base in ("public.sessions", "public.reviews", "public.session_requests", "public.workshop_stats",
                 "public.organizations", "ssr_meta.schema_migrations", "public.analytics_workshop_rollup",
                 "public.analytics_routing_rollup", "public.analytics_changes", "public.routing_candidates"):
        assert base in names
    readable = []
    for name in names:
        try:
            as_analytics(seeded_conn, f"SELECT 1 FROM {name} LIMIT 1")
            readable.append(name)
        except psycopg.errors.InsufficientPrivilege:
            pass
    assert readable == []


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO organizations (name, contact_email) VALUES ('X', 'x@example.com')",
        "UPDATE mechanics SET is_available = TRUE",
        "DELETE FROM reviews",
        "TRUNCATE workshop_stats",
        "UPDATE workshop_stats SET rating_sum = rating_sum",
        "DELETE FROM analytics_changes",
        "UPDATE analytics_workshop_rollup SET sessions_served = 0",
        "SELECT ssr_private.analytics_rollups_rebuild()",
        "SELECT ssr_private.analytics_workshop_recount(ARRAY['day'], current_date, current_date, ARRAY[gen_random_uuid()])",
        "CREATE TABLE public.bi_scratch (x integer)",
        "CREATE VIEW public.bi_scratch AS SELECT 1 AS x",
        "SELECT * FROM ssr_private.refresh_analytics()",
        "SELECT ssr_private.workshop_stats_rebuild()",
        "SELECT ssr_private.workshop_stats_apply(gen_random_uuid(), 1, 1, 1, 1, 1, 5)",
        "ALTER VIEW workshop_session_analytics RENAME TO x",
        "COMMENT ON VIEW routing_effectiveness IS 'x'",
    ],
)
def test_analytics_cannot_write(seeded_conn, statement):
    before = seeded_conn.execute("SELECT sum(sessions_served), count(*) FROM workshop_stats").fetchone()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_analytics(seeded_conn, statement)
    assert seeded_conn.execute("SELECT sum(sessions_served), count(*) FROM workshop_stats").fetchone() == before


@pytest.mark.parametrize("view", VIEWS + OPTIONAL_VIEWS + OFFER_VIEWS)
def test_analytics_cannot_write_through_the_views(seeded_conn, view):
    assert seeded_conn.execute(
        "SELECT has_table_privilege('analytics', %s, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')",
        (f"analytics.{view}",)
    ).fetchone() == (False,)
    before = seeded_conn.execute(f"SELECT count(*) FROM analytics.{view}").fetchone()
    # not updatable (aggregates) and not granted: refused either way
    with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState)):
        as_analytics(seeded_conn, f"DELETE FROM {view}")
    # a grant without grant option only warns and grants nothing
    as_analytics(seeded_conn, f"GRANT SELECT ON {view} TO PUBLIC")
    assert seeded_conn.execute("SELECT has_table_privilege('public', %s, 'SELECT')", (f"analytics.{view}",)).fetchone() == (
        False,)
    assert seeded_conn.execute(f"SELECT count(*) FROM analytics.{view}").fetchone() == before


def test_analytics_cannot_run_privileged_functions(conn):
    """No SECURITY DEFINER function (which would run with its owner's rights) is open to analytics,
    and the mechanic-facing ones are open to the mechanic role only."""
    open_definers = {
        r[0]
        for r in conn.execute(
            """
            SELECT p.oid::regprocedure::text
            FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prosecdef
              AND has_function_privilege('analytics', p.oid, 'EXECUTE')
            """
        ).fetchall()
    }
    assert open_definers == set()
    for fn in DEFINER_FUNCTIONS_FOR_MECHANICS:
        assert conn.execute("SELECT has_function_privilege('mechanic', %s, 'EXECUTE')", (fn,)).fetchone() == (True,)
        assert conn.execute("SELECT has_function_privilege('public', %s, 'EXECUTE')", (fn,)).fetchone() == (False,)
    for fn in (
        "ssr_private.refresh_analytics(integer)",
        "ssr_private.analytics_rollups_rebuild()",
        "ssr_private.analytics_workshop_recount(text[],date,date,uuid[])",
        "ssr_private.analytics_workshop_merge(text,date,date,uuid[])",
        "ssr_private.analytics_routing_recount(date,date,text[])",
        "ssr_private.analytics_changes_sessions_trg()",
        "ssr_private.analytics_changes_session_requests_trg()",
        "ssr_private.analytics_changes_reviews_trg()",
        "ssr_private.analytics_rollups_truncate_trg()",
        "ssr_private.routing_candidates_organizations_trg()",
        "ssr_private.workshop_stats_rebuild()",
        "ssr_private.workshop_stats_apply(uuid,integer,integer,integer,bigint,bigint,bigint)",
        "ssr_private.workshop_stats_sessions_trg()",
        "ssr_private.workshop_stats_reviews_trg()",
        "ssr_private.workshop_stats_mechanics_trg()",
        "ssr_private.workshop_stats_organizations_trg()",
    ):
        assert conn.execute("SELECT has_function_privilege('analytics', %s, 'EXECUTE')", (fn,)).fetchone() == (False,)


def test_views_keep_working_for_analytics_after_data_changes(seeded_conn):
    """The views run with their owner's rights: analytics needs no grant on the tables they read."""
    seeded_conn.execute("SELECT * FROM ssr_private.refresh_analytics()")
    before = as_analytics(seeded_conn, "SELECT sum(requests) FROM routing_effectiveness")[0][0]
    seeded_conn.execute("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY id LIMIT 3)")
    seeded_conn.execute("SELECT * FROM ssr_private.refresh_analytics()")  # the worker's job, as the owner
    after = as_analytics(seeded_conn, "SELECT sum(requests) FROM routing_effectiveness")[0][0]
    assert after == before - 3  # each demo session has one request, deleted with it
