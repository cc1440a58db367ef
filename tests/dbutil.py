"""Helpers for tests: databases on a real PostgreSQL server (never a mock)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SEEDS = Path(__file__).resolve().parent.parent / "db" / "seeds"


def url_for(server_url: str, dbname: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


APP_ROLE = "ssr_app"
# The other logins of the package (created NOLOGIN by the migrations): payments, worker, BI.
LOGIN_ROLES = (APP_ROLE, "ssr_payments", "ssr_worker", "ssr_bi")


def as_user(url: str, user: str = APP_ROLE) -> str:
    """The same database as another role (no password: trust, PGPASSWORD or ~/.pgpass)."""
    params = conninfo_to_dict(url)
    params["user"] = user
    params.pop("password", None)
    return make_conninfo(**params)


def enable_app_login(server_url: str) -> None:
    """Let the package's login roles log in (the migrations create them NOLOGIN, without a password)."""
    with psycopg.connect(url_for(server_url, "postgres"), autocommit=True) as c:
        for role in LOGIN_ROLES:
            c.execute(f"ALTER ROLE {role} LOGIN")


def create_database(server_url: str, template: str | None = None, prefix: str = "ssr_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url_for(server_url, "postgres"), autocommit=True) as c:
        tpl = f' TEMPLATE "{template}"' if template else ""
        c.execute(f'CREATE DATABASE "{name}"{tpl}')
    return name


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(url_for(server_url, "postgres"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The functions that act for a mechanic refuse unless the transaction's verified identity is
# that mechanic. Tests connect as a superuser (a member of ssr_app), so they identify the
# mechanic the way the app does: app.mechanic_id for the one statement. The LATERAL chain
# makes set_config run first (the call takes its argument from set_config's result).
ACCEPT_AS = (
    "SELECT a.* FROM (VALUES (%s::uuid, %s::uuid)) AS v (r, m) "
    "CROSS JOIN LATERAL (SELECT set_config('app.mechanic_id', coalesce(v.m::text, ''), TRUE)) AS s (x) "
    "CROSS JOIN LATERAL accept_session_request(v.r, nullif(s.x, '')::uuid) AS a"
)


def offers_as(columns: str = "*") -> str:
    """SELECT <columns> FROM get_mechanic_offers(mechanic, limit) with the mechanic's identity set."""
    return (
        f"SELECT {columns} FROM (VALUES (%s::uuid, %s::integer)) AS v (m, k) "
        "CROSS JOIN LATERAL (SELECT set_config('app.mechanic_id', coalesce(v.m::text, ''), TRUE)) AS s (x) "
        "CROSS JOIN LATERAL get_mechanic_offers(nullif(s.x, '')::uuid, v.k) AS o"
    )


def set_identity(conn, kind: str, value) -> None:
    """app.<kind>_id for the rest of the connection (a superuser test connection acts like the app)."""
    conn.execute(f"SELECT set_config('app.{kind}_id', %s, FALSE)", ("" if value is None else str(value),))


def load_seeds(conn: psycopg.Connection) -> None:
    """The demo data of db/seeds, file by file, on an autocommit connection (as the owner)."""
    for f in sorted(SEEDS.glob("*.sql")):
        conn.execute(f.read_text(encoding="utf-8").encode())
