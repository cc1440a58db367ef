"""The benchmark server: BENCH_DATABASE_URL, or a dedicated embedded cluster in .pg-bench/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_DIR = ROOT / ".pg-bench"


def url_for(server_url: str, dbname: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def server_url() -> str:
    """URL of a database on the server to benchmark; the cluster is started on demand."""
    env = os.environ.get("BENCH_DATABASE_URL")
    if env:
        return env
    subprocess.run([sys.executable, str(ROOT / "tools" / "pgcluster.py"), "ensure-plpython"], check=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "pgcluster.py"), "start", str(CLUSTER_DIR), "--db", "ssr_bench"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def db_name_for_scale(scale: float) -> str:
    return "ssr_bench_" + f"{scale:g}".replace(".", "_").replace("-", "m").replace("+", "")


def ensure_database(server: str, name: str) -> str:
    """Create database `name` when missing; returns its URL."""
    with psycopg.connect(url_for(server, "postgres"), autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')
    return url_for(server, name)


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(url_for(server, "postgres"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
