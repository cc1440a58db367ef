"""The core on managed Postgres (RDS, Cloud SQL, Supabase): installed by a database owner who is
not a superuser, in a database where plpython3u cannot be created (only a superuser may create an
untrusted language, and managed services give nobody superuser), then routing, accept and the
directory used as in production: the app through its least-privilege login.

The cluster roles (mechanic, analytics, ssr_app, customer) exist already, as when a DBA creates
them beforehand (docs/MIGRATIONS.md, "Managed Postgres"); the owner is no superuser; it has CREATEROLE, which
the managed services' owners have (migration 0061 comments on the role analytics).
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import psycopg
import pytest

from dev import pgcluster
from tests.dbutil import as_user, load_seeds, url_for
from tools.migrate import load_optional_plpython, migrate

ROOT = Path(__file__).resolve().parent.parent
AUTOPRO = "11111111-1111-4111-8111-000000000001"
CITY = "11111111-1111-4111-8111-000000000002"
ANA = "22222222-2222-4222-8222-000000000001"
DEV = "22222222-2222-4222-8222-000000000004"
ALICE = "33333333-3333-4333-8333-000000000001"


@pytest.fixture
def managed(pg_server_url, migrated_template):
    """(owner URL, app URL, superuser URL) of a new database owned by a plain login role."""
    owner = f"ssr_owner_{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(18)  # no trust on the test cluster: a login needs a password
    name = f"ssr_test_managed_{uuid.uuid4().hex[:8]}"
    admin = url_for(pg_server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS "
                  f"PASSWORD '{pgcluster.scram_verifier(password)}'")
        c.execute(f'CREATE DATABASE "{name}" OWNER {owner}')
    url = url_for(pg_server_url, name)
    try:
        yield as_user(url, owner, password), as_user(url), url
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f"DROP ROLE IF EXISTS {owner}")


def test_core_installs_and_runs_as_a_non_superuser_owner_without_plpython(managed):
    owner_url, app_url, super_url = managed
    with psycopg.connect(owner_url, autocommit=True) as owner:
        assert owner.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone() == (
            False, True)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            owner.execute("CREATE EXTENSION plpython3u")  # the language cannot be created here

    applied = migrate(owner_url)
    optional = {f.rel for f in load_optional_plpython()}
    assert optional and not optional & set(applied), "the PL/Python layer is skipped where it cannot be created"
    assert "db/migrations/0035_private_schemas_and_roles.sql" in applied
    assert migrate(owner_url) == []  # a second run is a no-op here too

    with psycopg.connect(owner_url, autocommit=True) as owner:
        assert owner.execute("SELECT count(*) FROM pg_extension WHERE extname = 'plpython3u'").fetchone() == (0,)
        assert owner.execute("SELECT to_regprocedure('ssr_private.explain_routing(uuid)')").fetchone() == (None,)
        load_seeds(owner)  # demo data, loaded by the owner
        request = owner.execute(
            "SELECT id FROM ssr_private.create_session_request(%s, 'video15', NULL, NULL, %s, 'workshop_only')", (ALICE, AUTOPRO)
        ).fetchone()[0]
        # fail-closed: the owner has no verified mechanic identity either
        with pytest.raises(psycopg.Error) as info:
            owner.execute("SELECT * FROM accept_session_request(%s, %s)", (request, ANA))
        assert (info.value.sqlstate, info.value.diag.column_name) == ("SR403", "mechanic_id")

    with psycopg.connect(app_url, autocommit=True) as app:
        assert app.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        # routing
        got = sorted(app.execute(
            "SELECT mechanic_id::text, priority_score FROM get_mechanics_for_routing(%s, 'hybrid')", (AUTOPRO,)
        ).fetchall())
        assert got == [
            (ANA, 100), ("22222222-2222-4222-8222-000000000002", 100), (DEV, 50),
            ("22222222-2222-4222-8222-000000000008", 25), ("22222222-2222-4222-8222-000000000009", 25),
        ]
        # accept: another workshop's mechanic is refused, the workshop's own wins, a second gets SR409
        for mechanic, expected in ((DEV, ("SR403", "mechanic_id")), (ANA, None),
                                   ("22222222-2222-4222-8222-000000000002", ("SR409", "request_id"))):
            try:
                with app.transaction():
                    app.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", (mechanic,))
                    row = app.execute("SELECT status, workshop_id::text FROM accept_session_request(%s, %s)",
                                      (request, mechanic)).fetchone()
                assert expected is None and row == ("accepted", AUTOPRO)
            except psycopg.Error as exc:
                assert (exc.sqlstate, exc.diag.column_name) == expected
        # directory
        directory = app.execute("SELECT workshop_id::text, total_count FROM get_workshop_directory(20, 0)").fetchall()
        assert {AUTOPRO, CITY} <= {w for w, _ in directory}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("UPDATE session_requests SET status = 'cancelled'")

    with psycopg.connect(super_url, autocommit=True) as su, su.transaction():
        su.execute("SET LOCAL ROLE analytics")
        assert su.execute("SELECT sum(sessions_served) FROM workshop_session_analytics "
                          "WHERE period_grain = 'month'").fetchone()[0] > 0
