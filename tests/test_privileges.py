"""Least privilege, checked through the real logins (ssr_app as `make run` and the app tests
connect; ssr_payments, ssr_worker, ssr_bi): no table writes, no helper, exactly the allowlisted
API for each; the customer/mechanic login records no payment; PUBLIC executes nothing of ours;
notifications carry ids only; a role granted SELECT sees no row a policy does not give it."""

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


def test_the_app_login_cannot_read_the_raw_outbox(app):
    # Every channel's rows, old ones with the accepting mechanic's ids: the app's hubs read
    # routing_outbox_feed and the replay get_mechanic_events (bounded to what a mechanic may see).
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("SELECT * FROM routing_outbox_replay(0)")


def test_the_app_login_calls_the_api(seeded_conn, app):
    assert len(app.execute("SELECT * FROM get_workshop_directory(5, 0)").fetchall()) > 0
    assert len(app.execute("SELECT * FROM get_mechanics_for_routing(%s, 'hybrid')", (AUTOPRO,)).fetchall()) > 0
    assert app.execute("SELECT routing_workshop_channel(%s)", (AUTOPRO,)).fetchone()[0].startswith("session_requests_ws_")
    assert app.execute("SELECT * FROM get_checkout_progress('cs_test_nothing')").fetchall() == []
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


# --- one login per power -------------------------------------------------------------------
# The counts of everything a fulfillment writes (and the live stream is fed from).
WRITTEN = ("checkout_purchases", "stripe_events", "session_requests", "sessions", "routing_outbox",
           "routing_events")


def written(conn) -> dict:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WRITTEN} | {
        "fulfilled": conn.execute("SELECT count(*) FROM checkout_purchases WHERE status = 'fulfilled'").fetchone()[0]}


def invented_purchase(app) -> tuple[str, str]:
    """As the app acting for Alice: a purchase with an invented Checkout Session id attached."""
    cs = "cs_test_invented_" + uuid.uuid4().hex
    with app.transaction():
        app.execute("SELECT set_config('app.customer_id', %s, TRUE)", (ALICE,))
        pid = app.execute("SELECT id FROM create_checkout_purchase(%s, 'video15', NULL, 'broadcast')",
                          (ALICE,)).fetchone()[0]
        app.execute("SELECT attach_checkout_session(%s, %s)", (pid, cs))
    return str(pid), cs


@pytest.fixture
def payments(payments_db_url):
    with psycopg.connect(payments_db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def worker(worker_db_url):
    with psycopg.connect(worker_db_url, autocommit=True) as c:
        yield c


def test_the_app_login_cannot_record_a_payment(seeded_conn, app):
    """The finding: as ssr_app, a purchase attached to an invented cs_ id was fulfilled as paid
    (routed, and on a mechanic's live stream). Now every call that records a payment is refused
    and nothing is written."""
    pid, cs = invented_purchase(app)
    before = written(seeded_conn)
    for sql, args in (
        ("SELECT * FROM fulfill_checkout_purchase(%s, %s, 'paid', 2900, 'usd')", (cs, pid)),
        ("SELECT * FROM handle_checkout_event('evt_invented', 'checkout.session.completed', FALSE, %s, %s, 'paid', "
         "2900, 'usd')", (cs, pid)),
        ("SELECT * FROM handle_refund_event('evt_invented_r', 'refund.updated', FALSE, '[]')", ()),
        ("SELECT note_unresolved_checkout_session(%s, 'evt_invented', 'x')", (cs,)),
        ("SELECT * FROM get_checkout_status(%s)", (cs,)),
    ):
        with app.transaction():  # even acting for the purchase's own customer
            app.execute("SELECT set_config('app.customer_id', %s, TRUE)", (ALICE,))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(sql, args)
    assert written(seeded_conn) == before
    assert seeded_conn.execute("SELECT status FROM checkout_purchases WHERE id = %s", (pid,)).fetchone() == ("pending",)


def test_the_payments_login_fulfils_and_reads_the_success_status(seeded_conn, app, payments):
    pid, cs = invented_purchase(app)
    before = written(seeded_conn)
    out = payments.execute("SELECT outcome, session_request_id FROM fulfill_checkout_purchase(%s, %s, 'paid', 2900, "
                           "'usd')", (cs, pid)).fetchone()
    assert out[0] == "fulfilled" and out[1] is not None
    after = written(seeded_conn)
    assert after["fulfilled"] == before["fulfilled"] + 1 and after["session_requests"] == before["session_requests"] + 1
    assert payments.execute("SELECT purchase_status FROM get_checkout_status(%s)", (cs,)).fetchone() == ("fulfilled",)
    assert payments.execute(
        "SELECT outcome FROM handle_checkout_event('evt_pay_1', 'checkout.session.completed', FALSE, %s, %s, 'paid', "
        "2900, 'usd')", (cs, pid)).fetchone() == ("already_fulfilled",)


def test_the_payments_login_acts_for_no_customer_or_mechanic(seeded_conn, conn, payments):
    assert payments.execute("SELECT current_user").fetchone() == ("ssr_payments",)
    rid = seeded_conn.execute("SELECT id FROM ssr_private.create_session_request(%s, 'video15', NULL, NULL, NULL, "
                              "'broadcast')", (ALICE,)).fetchone()[0]
    before = written(seeded_conn)
    for sql, args in (
        ("SELECT * FROM create_checkout_purchase(%s, 'video15', NULL, NULL)", (ALICE,)),
        ("SELECT * FROM attach_checkout_session(gen_random_uuid(), 'cs_test_x')", ()),
        ("SELECT * FROM accept_session_request(%s, %s)", (rid, ANA)),
        ("SELECT * FROM get_mechanic_offers(%s, 10)", (ANA,)),
        ("SELECT * FROM cancel_customer_session_request(%s, %s)", (rid, ALICE)),
        ("SELECT * FROM get_workshop_directory(5, 0)", ()),
        ("SELECT * FROM routing_outbox_replay(0)", ()),
        ("SELECT * FROM ssr_private.sweep_session_requests()", ()),
        ("SELECT email FROM customers", ()),
        ("SELECT * FROM checkout_purchases", ()),
    ):
        with payments.transaction():
            payments.execute("SELECT set_config('app.customer_id', %s, TRUE), set_config('app.mechanic_id', %s, TRUE)",
                             (ALICE, ANA))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                payments.execute(sql, args)
    assert written(seeded_conn) == before
    # The identity settings mean nothing from this login (it is no member of ssr_app).
    with payments.transaction():
        payments.execute("SELECT set_config('app.customer_id', %s, TRUE)", (ALICE,))
        assert payments.execute("SELECT pg_has_role(current_user, 'ssr_app', 'MEMBER')").fetchone() == (False,)
    allowed = {oid for oid, grantees in allowlist(conn).items() if "ssr_payments" in grantees}
    can = {oid for oid, _nsp, _sig in conn.execute(OURS) if conn.execute(
        "SELECT has_function_privilege('ssr_payments', %s::oid, 'EXECUTE')", (oid,)).fetchone()[0]}
    assert can == allowed and len(allowed) == 5


def private_allowlist(conn, role: str) -> set:
    return {oid for (oid,) in conn.execute(
        "SELECT to_regprocedure('ssr_private.' || signature)::oid FROM ssr_private.private_functions() "
        "WHERE %s = ANY (grantees) AND to_regprocedure('ssr_private.' || signature) IS NOT NULL", (role,))}


def test_the_worker_login_runs_the_jobs_and_nothing_else(seeded_conn, conn, worker):
    from worker import jobs, refunds

    assert worker.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (
        "ssr_worker", False)
    assert jobs.sweep_counts(worker) == (0, 0)
    assert jobs.refresh_analytics_count(worker) >= 0
    assert jobs.relay_count(worker) >= 0
    assert worker.execute("SELECT ssr_private.routing_outbox_prune()").fetchone()[0] >= 0
    assert worker.execute("SELECT * FROM ssr_private.refund_claim_due()").fetchall() == []
    assert worker.execute("SELECT * FROM ssr_private.refund_stale_pending()").fetchall() == []
    run = worker.execute("SELECT run_id FROM ssr_private.reconciliation_run_start(now() - interval '1 hour')").fetchone()
    assert worker.execute("SELECT id FROM ssr_private.reconciliation_run_finish(%s)", run).fetchone() is not None
    assert refunds.refresh_pending_refunds(worker, None) == 0  # nothing to re-fetch: Stripe is not asked
    before = written(seeded_conn)
    for sql in ("SELECT * FROM get_workshop_directory(5, 0)",
                f"SELECT * FROM create_checkout_purchase('{ALICE}', 'video15', NULL, NULL)",
                "SELECT * FROM fulfill_checkout_purchase('cs_test_w', NULL, 'paid', 2900, 'usd')",
                "SELECT * FROM handle_checkout_event('evt_w', 'checkout.session.completed', FALSE)",
                f"SELECT * FROM get_mechanic_offers('{ANA}', 10)",
                "SELECT * FROM routing_outbox_replay(0)",
                "SELECT email FROM customers", "SELECT email FROM mechanics", "SELECT * FROM refunds",
                "SELECT * FROM checkout_purchases", "SELECT * FROM analytics.workshop_session_analytics",
                "SELECT ssr_private.workshop_stats_rebuild()", "SELECT ssr_private.apply_privileges()",
                "SELECT ssr_private.create_session_request(gen_random_uuid(), 'video15', NULL, NULL, NULL)",
                "UPDATE session_requests SET status = 'expired'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            worker.execute(sql)
    assert written(seeded_conn) == before
    allowed = private_allowlist(conn, "ssr_worker") | {
        oid for oid, grantees in allowlist(conn).items() if "ssr_worker" in grantees}
    can = {oid for oid, _nsp, _sig in conn.execute(OURS) if conn.execute(
        "SELECT has_function_privilege('ssr_worker', %s::oid, 'EXECUTE')", (oid,)).fetchone()[0]}
    assert can == allowed and len(allowed) >= 12
    tables = [r[0] for r in conn.execute(TABLES)]
    assert [t for t in tables if conn.execute("SELECT has_table_privilege('ssr_worker', %s, 'SELECT, INSERT, UPDATE, "
                                              "DELETE, TRUNCATE')", (t,)).fetchone()[0]] == []


def test_the_worker_jobs_run_as_their_own_definer(conn):
    """The job functions are SECURITY DEFINER (the worker's login holds no table privilege)."""
    loose = conn.execute(
        "SELECT signature FROM ssr_private.private_functions() WHERE 'ssr_worker' = ANY (grantees) "
        "AND NOT (SELECT prosecdef FROM pg_proc WHERE oid = to_regprocedure('ssr_private.' || signature))").fetchall()
    assert loose == []


def test_the_bi_login_is_read_only_by_default_and_reads_the_views(seeded_conn, bi_db_url):
    with psycopg.connect(bi_db_url, autocommit=True) as bi:
        assert bi.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert bi.execute("SELECT count(*) >= 0 FROM analytics.workshop_session_analytics").fetchone() == (True,)
        for sql in ("CREATE TEMP TABLE t (x int)", "SELECT ssr_private.refresh_analytics()",
                    "INSERT INTO plans (code, name, price_minor, currency, duration_minutes) "
                    "VALUES ('x', 'x', 1, 'usd', 15)"):
            with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
                bi.execute(sql)
        # The default is a default: a session may turn it off, and then privileges still refuse.
        bi.execute("SET default_transaction_read_only = off")
        for sql in ("INSERT INTO plans (code, name, price_minor, currency, duration_minutes) "
                    "VALUES ('x', 'x', 1, 'usd', 15)", "SELECT email FROM customers",
                    "SELECT ssr_private.refresh_analytics()", "SELECT * FROM get_workshop_directory(5, 0)",
                    "CREATE TABLE public.bi_junk (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(sql)


def test_bi_logins_without_the_read_only_default_are_reported(conn):
    """ALTER ROLE analytics/ssr_bi SET ... does not apply to a login granted the role: the check
    lists such logins (and BI logins that are also members of a role that writes)."""
    assert conn.execute("SELECT * FROM ssr_private.bi_logins_not_read_only()").fetchall() == []
    name = f"bi_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE ssr_bi")
    try:
        assert conn.execute("SELECT * FROM ssr_private.bi_logins_not_read_only()").fetchall() == [
            (name, "not read-only by default")]
        conn.execute(f"ALTER ROLE {name} SET default_transaction_read_only = on")
        assert conn.execute("SELECT * FROM ssr_private.bi_logins_not_read_only()").fetchall() == []
        conn.execute(f"ALTER ROLE {name} IN DATABASE {conn.info.dbname} SET default_transaction_read_only = off")
        assert conn.execute("SELECT login FROM ssr_private.bi_logins_not_read_only()").fetchall() == [(name,)]
        conn.execute(f"ALTER ROLE {name} IN DATABASE {conn.info.dbname} RESET default_transaction_read_only")
        conn.execute(f"GRANT ssr_app TO {name}")
        assert conn.execute("SELECT * FROM ssr_private.bi_logins_not_read_only()").fetchall() == [
            (name, "member of ssr_app")]
    finally:
        conn.execute(f"DROP ROLE {name}")


# --- row-level security: default deny ------------------------------------------------------
def test_a_role_granted_select_sees_no_row_without_a_policy(seeded_conn):
    """The tables the package grants SELECT on have RLS and no policy for other roles: a role a DBA
    grants SELECT later (a report login, the BI role) sees nothing, not every customer's rows."""
    c = seeded_conn
    c.execute("SELECT id FROM ssr_private.create_session_request(%s, 'video15', NULL, NULL, NULL, 'broadcast')", (ALICE,))
    name = f"reader_{uuid.uuid4().hex[:8]}"
    c.execute(f"CREATE ROLE {name} NOLOGIN")
    try:
        for table in ("session_requests", "mechanics", "organizations", "plans"):
            assert c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
            c.execute(f"GRANT SELECT ON {table} TO {name}, analytics")
        for role in (name, "analytics"):
            with c.transaction():
                c.execute(f"SET LOCAL ROLE {role}")
                for table in ("session_requests", "mechanics", "organizations", "plans"):
                    assert c.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), (role, table)
    finally:
        for table in ("session_requests", "mechanics", "organizations", "plans"):
            c.execute(f"REVOKE SELECT ON {table} FROM {name}, analytics")
        c.execute(f"DROP ROLE {name}")


def test_a_mechanic_sees_its_own_mechanic_and_workshop_rows_only(seeded_conn):
    c = seeded_conn
    with c.transaction():
        c.execute("SELECT set_config('request.jwt.claims', %s, TRUE)", (json.dumps({"sub": ANA, "role": "mechanic"}),))
        c.execute("SET LOCAL ROLE mechanic")
        assert c.execute("SELECT id::text, workshop_id::text FROM mechanics").fetchall() == [(ANA, AUTOPRO)]
        assert c.execute("SELECT id::text FROM organizations").fetchall() == [(AUTOPRO,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT email FROM mechanics")
    with c.transaction():
        c.execute("SET LOCAL ROLE mechanic")  # no identity: nothing
        assert c.execute("SELECT count(*) FROM mechanics").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM organizations").fetchone() == (0,)


def test_the_app_login_reads_the_price_list(seeded_conn, app):
    assert app.execute("SELECT count(*) FROM plans").fetchone() == seeded_conn.execute(
        "SELECT count(*) FROM plans").fetchone()
