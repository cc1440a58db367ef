"""Helpers for tests: databases on a real PostgreSQL server (never a mock)."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def url_for(server_url: str, dbname: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def create_database(server_url: str, template: str | None = None, prefix: str = "ssr_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url_for(server_url, "postgres"), autocommit=True) as c:
        tpl = f' TEMPLATE "{template}"' if template else ""
        c.execute(f'CREATE DATABASE "{name}"{tpl}')
    return name


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(url_for(server_url, "postgres"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
