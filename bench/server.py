"""The benchmark server: BENCH_DATABASE_URL, or a dedicated embedded cluster in .pg-bench/.

Figures are taken on PostgreSQL's durable defaults (fsync, synchronous_commit and
full_page_writes on), for the project and the pgbench baselines alike. The dedicated
cluster is made durable (ALTER SYSTEM, reload) whatever its postgresql.conf says (an older
dev/pgcluster.py wrote them off into every cluster); another server is only checked,
and a run on one that is not durable is labelled so in the results and warned about.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
    subprocess.run([sys.executable, str(ROOT / "dev" / "pgcluster.py"), "ensure-plpython"], check=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "pgcluster.py"), "start", str(CLUSTER_DIR), "--db", "ssr_bench"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip().splitlines()[-1]


DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
# Fewer checkpoints for the dedicated cluster (each one makes the next write of every page a
# full page image in the WAL: bulk loads and write benchmarks write far more WAL). They change
# how long crash recovery may take, not what a commit guarantees; pgbench runs with them too.
CHECKPOINTS = {"max_wal_size": "'16GB'", "checkpoint_timeout": "'30min'"}
SETTINGS_RECORDED = ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "wal_level",
                     "shared_buffers", "max_connections", "work_mem", "checkpoint_timeout", "max_wal_size")


def durability(url: str) -> dict:
    """The server's durability settings as a new connection sees them, and whether they are durable."""
    with psycopg.connect(url, autocommit=True) as c:
        got = dict(c.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            (list(SETTINGS_RECORDED),)).fetchall())
    got["durable"] = all(got.get(k) == v for k, v in DURABLE.items())
    return got


def ensure_durable(url: str, dedicated: bool, log=print) -> dict:
    """Make the dedicated cluster durable (ALTER SYSTEM + reload: the three settings need no
    restart) and verify; on another server only check. Returns the settings recorded."""
    got = durability(url)
    if dedicated and (got.get("max_wal_size") != "16GB" or got.get("checkpoint_timeout") != "30min"):
        with psycopg.connect(url, autocommit=True) as c:
            for k, v in CHECKPOINTS.items():
                c.execute(f"ALTER SYSTEM SET {k} = {v}")
            c.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        got = durability(url)
    if not got["durable"] and dedicated:
        off = ", ".join(f"{k} = {got.get(k)}" for k in DURABLE if got.get(k) != DURABLE[k])
        log(f"bench: the benchmark cluster had {off}; setting PostgreSQL's durable defaults (ALTER SYSTEM)")
        with psycopg.connect(url, autocommit=True) as c:
            for k, v in DURABLE.items():
                c.execute(f"ALTER SYSTEM SET {k} = {v}")
            c.execute("SELECT pg_reload_conf()")
        for _ in range(50):
            got = durability(url)
            if got["durable"]:
                break
            time.sleep(0.1)
        if not got["durable"]:
            raise RuntimeError(f"bench: could not make the benchmark cluster durable: {got}")
    if not got["durable"]:
        log("\n" + "!" * 78 + "\n!! NOT DURABLE: this server runs with "
            + ", ".join(f"{k} = {got.get(k)}" for k in DURABLE)
            + ";\n!! the figures are not comparable with durable ones (labelled so in results.json)\n" + "!" * 78)
    return got


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
