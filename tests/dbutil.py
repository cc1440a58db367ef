"""Helpers for tests: databases on a real PostgreSQL server (never a mock)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dev import pgcluster

SEEDS = Path(__file__).resolve().parent.parent / "db" / "seeds"


def url_for(server_url: str, dbname: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


APP_ROLE = "ssr_app"
# The logins (NOLOGIN roles of the migrations) a cluster we run gives LOGIN and a password.
LOGIN_ROLES = pgcluster.ROLES


def as_user(url: str, user: str = APP_ROLE, password: str | None = None) -> str:
    """The same database as another role: the URL's other parameters kept (a cluster we run names its
    passfile, which holds the logins' passwords); a password only when given."""
    params = conninfo_to_dict(url)
    params["user"] = user
    params.pop("password", None)
    if password is not None:
        params["password"] = password
    return make_conninfo(**params)


def login_url(url: str, role: str) -> str:
    """url as one of the logins (LOGIN_ROLES): its password from the passfile the URL names."""
    assert role in LOGIN_ROLES, role
    return as_user(url, role)


def enable_logins(server_url: str) -> list[str]:
    """LOGIN for each of LOGIN_ROLES that exists (the migrations create them NOLOGIN), with the password
    of the server URL's passfile when it names one (a cluster we run; DATABASE_URL: LOGIN only)."""
    passfile = conninfo_to_dict(server_url).get("passfile")
    with psycopg.connect(url_for(server_url, "postgres"), autocommit=True) as c:
        roles = [r for (r,) in c.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
                                         (list(LOGIN_ROLES),))]
        passwords = pgcluster.ensure_passfile(passfile, tuple(roles)) if passfile else {}
        for role in roles:
            c.execute(pgcluster.login_sql(role, passwords.get(role)).encode())
    return roles


def enable_app_login(server_url: str) -> None:
    """Let the app's role (and the other logins) log in."""
    enable_logins(server_url)


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
