"""Least privilege, checked through the app's real login (role ssr_app, as `make run` and the
app tests connect): no table writes, no helper, exactly the allowlisted API; PUBLIC executes
nothing of ours; notifications carry ids only."""

from __future__ import annotations

import json
import re
import uuid

import psycopg
import pytest

OURS = """
SELECT p.oid, n.nspname, p.oid::regprocedure::text
FROM pg_proc AS p JOIN pg_namespace AS n ON p.pronamespace = n.oid
WHERE n.nspname IN ('public', 'ssr_private', 'analytics')
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
"""
TABLES = """
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_class AS c JOIN pg_namespace AS n ON c.relnamespace = n.oid
WHERE n.nspname IN ('public', 'ssr_private', 'analytics', 'ssr_meta') AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY 1
"""
AUTOPRO = "11111111-1111-4111-8111-000000000001"
ANA = "22222222-2222-4222-8222-000000000001"
ALICE = "33333333-3333-4333-8333-000000000001"


@pytest.fixture
def app(app_db_url):
    """The app's own login on the test database."""
    with psycopg.connect(app_db_url, autocommit=True) as c:
        yield c


def allowlist(conn) -> dict:
    return {
        oid: grantees
        for oid, grantees in conn.execute(
            "SELECT to_regprocedure('public.' || signature)::oid, grantees FROM ssr_private.api_functions()"
        )
        if oid is not None
    }


def test_the_app_login_is_neither_superuser_nor_owner(app):
    assert app.execute("SELECT current_user, session_user").fetchone() == ("ssr_app", "ssr_app")
    row = app.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                      "WHERE rolname = current_user").fetchone()
    assert row == (False, False, False, False)
    owned = app.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole "
        "UNION ALL SELECT count(*) FROM pg_proc WHERE proowner = current_user::regrole "
        "UNION ALL SELECT count(*) FROM pg_namespace WHERE nspowner = current_user::regrole"
    ).fetchall()
    assert owned == [(0,), (0,), (0,)]


def test_the_app_login_cannot_write_any_table(conn, app):
    tables = [r[0] for r in conn.execute(TABLES)]
    assert "public.session_requests" in tables and "analytics.workshop_session_analytics" in tables
    writable = [t for t in tables if conn.execute(
        "SELECT has_table_privilege('ssr_app', %s, 'INSERT, UPDATE, DELETE, TRUNCATE')", (t,)).fetchone()[0]]
    assert writable == []
    before = conn.execute("SELECT count(*) FROM session_requests").fetchone()
    for statement in (
        "INSERT INTO organizations (name, contact_email) VALUES ('X', 'x@x.example')",
        "UPDATE mechanics SET is_available = NOT is_available",
        "DELETE FROM session_requests",
        "TRUNCATE routing_outbox",
        "UPDATE workshop_stats SET rating_sum = 0",
        "INSERT INTO ssr_meta.schema_migrations VALUES ('9999', 'x', 'x')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute(statement)
    assert conn.execute("SELECT count(*) FROM session_requests").fetchone() == before


def test_the_app_login_cannot_call_helpers(conn, app):
    helpers = [sig for _oid, nsp, sig in conn.execute(OURS) if nsp == "ssr_private"]
    assert "ssr_private.validate_routing_choice(uuid,text)" in helpers
    assert "ssr_private.verified_identity(text)" in helpers
    for sig in helpers:
        assert conn.execute("SELECT has_function_privilege('ssr_app', %s, 'EXECUTE')", (sig,)).fetchone() == (
            False,), sig
    for call in ("SELECT ssr_private.validate_routing_choice(NULL, 'broadcast')",
                 "SELECT ssr_private.current_mechanic_id()",
                 "SELECT ssr_private.workshop_stats_rebuild()",
                 "SELECT * FROM ssr_private.refresh_analytics()",
                 "SELECT * FROM ssr_private.sweep_session_requests()",
                 "SELECT * FROM ssr_private.create_session_request(gen_random_uuid(), 'video15', NULL, NULL, NULL)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute(call)


def test_the_app_login_calls_the_api(seeded_conn, app):
    assert len(app.execute("SELECT * FROM get_workshop_directory(5, 0)").fetchall()) > 0
    assert len(app.execute("SELECT * FROM get_mechanics_for_routing(%s, 'hybrid')", (AUTOPRO,)).fetchall()) > 0
    assert app.execute("SELECT routing_workshop_channel(%s)", (AUTOPRO,)).fetchone()[0].startswith("session_requests_ws_")
    app.execute("SELECT * FROM routing_outbox_replay(0)").fetchall()
    assert app.execute("SELECT * FROM get_checkout_status('cs_test_nothing')").fetchall() == []
    with app.transaction():
        app.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", (ANA,))
        app.execute("SELECT * FROM get_mechanic_offers(%s, 10)", (ANA,)).fetchall()
    with app.transaction():
        app.execute("SELECT set_config('app.customer_id', %s, TRUE)", (ALICE,))
        row = app.execute("SELECT status FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,)).fetchone()
    assert row == ("pending",)
    assert app.execute("SELECT code FROM plans ORDER BY code LIMIT 1").fetchone() is not None  # the price list


def test_the_app_login_executes_exactly_the_allowlisted_functions(conn):
    allowed = {oid for oid, grantees in allowlist(conn).items() if "ssr_app" in grantees}
    can = {oid for oid, _nsp, _sig in conn.execute(OURS)
           if conn.execute("SELECT has_function_privilege('ssr_app', %s::oid, 'EXECUTE')", (oid,)).fetchone()[0]}
    assert can == allowed
    assert len(allowed) >= 8


def test_every_public_function_is_on_the_allowlist(conn):
    listed = allowlist(conn)
    unlisted = [sig for oid, nsp, sig in conn.execute(OURS) if nsp == "public" and oid not in listed]
    assert unlisted == [], "add them to db/functions/security/ssr_private.api_functions.sql (with their roles, or none)"
    names = [r[0] for r in conn.execute("SELECT signature FROM ssr_private.api_functions()")]
    assert len(names) == len(set(names))


def test_public_executes_nothing_of_ours(conn):
    open_to_public = [sig for oid, _nsp, sig in conn.execute(OURS)
                      if conn.execute("SELECT has_function_privilege('public', %s::oid, 'EXECUTE')",
                                             (oid,)).fetchone()[0]]
    assert open_to_public == []
    assert conn.execute(
        "SELECT has_schema_privilege('public', 'ssr_private', 'USAGE'), "
        "has_schema_privilege('public', 'analytics', 'USAGE')").fetchone() == (False, False)


def test_new_functions_are_closed_to_public_by_default(conn):
    """ALTER DEFAULT PRIVILEGES: a function the owner creates later is not executable by PUBLIC."""
    conn.execute("CREATE FUNCTION public.later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    conn.execute("CREATE FUNCTION ssr_private.later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    assert conn.execute(
        "SELECT has_function_privilege('public', 'public.later_fn()', 'EXECUTE'), "
        "has_function_privilege('public', 'ssr_private.later_fn()', 'EXECUTE')").fetchone() == (False, False)


def test_re_applying_privileges_is_idempotent_and_restores_a_lost_grant(conn, app):
    conn.execute("REVOKE EXECUTE ON FUNCTION get_workshop_directory(integer, integer, text, text) FROM ssr_app")
    conn.execute("GRANT EXECUTE ON FUNCTION ssr_private.workshop_stats_rebuild() TO ssr_app")
    assert conn.execute(
        "SELECT has_function_privilege('ssr_app', 'ssr_private.workshop_stats_rebuild()', 'EXECUTE')").fetchone() == (True,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("SELECT * FROM get_workshop_directory(5, 0)")
    n = conn.execute("SELECT ssr_private.apply_privileges()").fetchone()[0]
    assert n == conn.execute("SELECT ssr_private.apply_privileges()").fetchone()[0]
    app.execute("SELECT * FROM get_workshop_directory(5, 0)")
    assert conn.execute(
        "SELECT has_function_privilege('ssr_app', 'ssr_private.workshop_stats_rebuild()', 'EXECUTE')").fetchone() == (False,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("SELECT ssr_private.workshop_stats_rebuild()")


# The owner's jobs and repairs: in ssr_private, not in public, executable by the owner only.
OWNER_ONLY = (
    "refund_claim_due()",
    "refund_record_attempt(uuid,text,text,text,text,boolean)",
    "refund_apply_stripe_status(uuid,text,text)",
    "reconciliation_run_start(timestamp with time zone)",
    "reconcile_checkout_session(bigint,text,text,text,integer,text)",
    "reconciliation_run_finish(bigint,text)",
    "create_session_request(uuid,text,uuid,uuid,uuid,text)",
    "cancel_session_request(uuid,text)",
    "sweep_session_requests(timestamp with time zone)",
    "routing_outbox_prune(interval)",
    "refresh_analytics(integer)",
    "workshop_stats_rebuild()",
    "analytics_rollups_rebuild()",
    "mechanic_state_rebuild()",
)


def test_owner_only_jobs_live_in_ssr_private_and_only_the_owner_executes_them(conn):
    listed = {r[0] for r in conn.execute("SELECT signature FROM ssr_private.api_functions()")}
    roles = ("public", "ssr_app", "mechanic", "customer", "analytics")
    for sig in OWNER_ONLY:
        assert conn.execute("SELECT to_regprocedure(%s)", (f"public.{sig}",)).fetchone() == (None,), sig
        assert sig not in listed, sig
        fn = f"ssr_private.{sig}"
        assert conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (fn,)).fetchone() == (True,), fn
        for role in roles:
            assert conn.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (role, fn)).fetchone() == (
                False,), (role, fn)
        assert conn.execute("SELECT has_function_privilege(current_user, %s, 'EXECUTE')", (fn,)).fetchone() == (True,)
    # A grant made by hand is taken back by the next run's apply_privileges.
    conn.execute("GRANT EXECUTE ON FUNCTION ssr_private.refund_claim_due() TO PUBLIC, ssr_app")
    conn.execute("SELECT ssr_private.apply_privileges()")
    assert conn.execute(
        "SELECT has_function_privilege('public', 'ssr_private.refund_claim_due()', 'EXECUTE'), "
        "has_function_privilege('ssr_app', 'ssr_private.refund_claim_due()', 'EXECUTE')").fetchone() == (False, False)


def test_security_definers_pin_their_search_path(conn):
    loose = conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname IN ('public', 'ssr_private', 'analytics') AND p.prosecdef "
        "AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%%')"
    ).fetchall()
    assert loose == []


def test_notification_payloads_carry_ids_only(seeded_conn):
    """LISTEN has no access control in Postgres: any role that can connect may listen, so what
    is sent is ids, enums and times, never a name, e-mail, vehicle or problem description."""
    c = seeded_conn
    rid = c.execute(
        "SELECT id FROM ssr_private.create_session_request(%s, 'video15', NULL, NULL, %s, 'hybrid')", (ALICE, AUTOPRO)
    ).fetchone()[0]
    intake = c.execute("INSERT INTO intakes (customer_id, description, vehicle_make) VALUES (%s, 'brakes squeal', "
                       "'Toyota') RETURNING id", (ALICE,)).fetchone()[0]
    c.execute("SELECT id FROM ssr_private.create_session_request(%s, 'video15', NULL, %s, NULL, 'broadcast')", (ALICE, intake))
    c.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (ANA,))
    c.execute("SELECT * FROM accept_session_request(%s, %s)", (rid, ANA))
    payloads = [p for (p,) in c.execute("SELECT payload FROM routing_outbox ORDER BY id")]
    assert {p["event"] for p in payloads} >= {"created", "accepted"}
    allowed = {"event", "request_id", "routing_type", "preferred_workshop_id", "audience", "priority_score",
               "plan_code", "status", "created_at", "exclusive_until", "expires_at", "mechanic_id", "workshop_id"}
    personal = {"ana", "torres", "alice", "customer.example", "autopro mechanics", "brakes", "toyota"}
    for p in payloads:
        assert set(p) <= allowed, set(p) - allowed
        for key in ("request_id", "preferred_workshop_id", "mechanic_id", "workshop_id"):
            if p.get(key) is not None:
                uuid.UUID(p[key])
        text = json.dumps(p).lower()
        assert not [w for w in personal if w in text], p


def test_every_granted_function_acting_for_someone_checks_the_identity(conn):
    """A function another role may call that takes a mechanic or customer id acts for them: it must
    check the verified identity (ssr_private.assert_acting_for), so none can be added fail-open."""
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text, p.proargnames, p.prosrc
        FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND (has_function_privilege('ssr_app', p.oid, 'EXECUTE')
               OR has_function_privilege('mechanic', p.oid, 'EXECUTE')
               OR has_function_privilege('customer', p.oid, 'EXECUTE'))
        """
    ).fetchall()
    acting = {sig: src for sig, names, src in rows if {"p_mechanic_id", "p_customer_id"} & set(names or [])}
    assert {"accept_session_request(uuid,uuid)", "get_mechanic_offers(uuid,integer)",
            "create_checkout_purchase(uuid,text,uuid,text,uuid)", "start_session(uuid,uuid)"} <= set(acting)
    # A check may live in an ssr_private function the API function hands its ids to (the
    # session lifecycle's wrappers call session_transition): followed one level down.
    private = dict(conn.execute(
        """
        SELECT p.proname, p.prosrc FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname = 'ssr_private'
        """
    ).fetchall())

    def checks(src: str) -> bool:
        return any(f in src for f in ("assert_acting_for", "current_mechanic_id", "current_customer_id"))

    def delegates_check(src: str) -> bool:
        called = re.findall(r"ssr_private\.(\w+)\(([^;]*?)\)", src)
        return any(checks(private.get(name, "")) and ("p_mechanic_id" in args or "p_customer_id" in args)
                   for name, args in called)

    unchecked = sorted(sig for sig, src in acting.items() if not checks(src) and not delegates_check(src))
    assert unchecked == []
    assert delegates_check(acting["start_session(uuid,uuid)"])
    assert not delegates_check("RETURN ssr_private.session_transition(p_session_id, NULL, 'start');")
