#!/usr/bin/env python3
"""Manage the project's embedded PostgreSQL 15 cluster (stdlib only).

    pgcluster.py ensure-plpython      install PL/Python when absent (root: apt-get)
    pgcluster.py ensure-sql-tools     install pgTAP, pg_prove and plpgsql_check when absent (root: apt-get)
    pgcluster.py ensure-pg-cron       install pg_cron when absent (root: apt-get), optional
    pgcluster.py start DIR [--db NAME] [--throwaway]
                                       start (initdb on first use); prints the URL
    pgcluster.py stop DIR [--mode fast|immediate]
                                       stop the cluster in DIR (immediate: as a crash would)
    pgcluster.py url DIR [--db NAME]   print the URL of a running cluster
    pgcluster.py destroy DIR           stop and delete the cluster in DIR (and a link's target)
    pgcluster.py app-url URL [--enable-login]
                                       URL as the app's login role ssr_app (no password: trust,
                                       PGPASSWORD or ~/.pgpass); --enable-login first gives the
                                       role LOGIN through URL (the embedded cluster's superuser)

The cluster listens on a unix socket inside DIR and on 127.0.0.1 at a free port
(remembered in DIR/port so a restart keeps its URL). initdb refuses to run as
root, so when root the cluster belongs to the `postgres` OS user.

Durability: a cluster keeps PostgreSQL's defaults (fsync, synchronous_commit and
full_page_writes on), so every commit a client was told about survives a crash.
Only `--throwaway` at creation (the test suite's temporary cluster, deleted after
the run) turns them off for speed. A cluster created with them off by an older
version of this tool is made durable on its next `start` without --throwaway:
stopped, the settings removed, its files flushed (`initdb --sync-only`, as the
PostgreSQL manual asks when fsync is turned back on) and started again.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

PG_MAJOR = "15"
SUPERUSER = "postgres"


def die(msg: str) -> None:
    print(f"pgcluster: {msg}", file=sys.stderr)
    sys.exit(1)


def bindir() -> str:
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    cand = f"/usr/lib/postgresql/{PG_MAJOR}/bin"
    if os.path.isfile(os.path.join(cand, "initdb")):
        return cand
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    die(f"PostgreSQL {PG_MAJOR} server binaries not found (set PG_BINDIR)")
    return ""  # unreachable


def pkglibdir() -> str:
    out = subprocess.run(
        [os.path.join(bindir(), "pg_config"), "--pkglibdir"],
        capture_output=True, text=True, check=False,
    )
    return out.stdout.strip() or f"/usr/lib/postgresql/{PG_MAJOR}/lib"


def server_version() -> str:
    out = subprocess.run(
        [os.path.join(bindir(), "postgres"), "--version"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


def ensure_plpython() -> None:
    ensure_module("plpython3.so", f"postgresql-plpython3-{PG_MAJOR}", "PL/Python", match_server=True)


def ensure_pg_cron() -> None:
    """pg_cron, for the optional db/optional/pg_cron.sql (Debian's build for this major)."""
    ensure_module("pg_cron.so", f"postgresql-{PG_MAJOR}-cron", "pg_cron", match_server=False)


def ensure_module(so: str, pkg: str, what: str, match_server: bool) -> None:
    """Install the Debian package that brings server module `so` when it is missing (root only).
    match_server: ask for the server's exact Debian version (packages built from its source)."""
    lib = os.path.join(pkglibdir(), so)
    if os.path.exists(lib):
        return
    if os.geteuid() != 0:
        die(f"{what} is missing ({lib}). Install it as root: apt-get install {pkg}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"pgcluster: installing {pkg} ({server_version()})", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    server_pkg_ver = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", f"postgresql-{PG_MAJOR}"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    target = f"{pkg}={server_pkg_ver}" if match_server and server_pkg_ver else pkg
    res = subprocess.run(["apt-get", "install", "-y", "-qq", target], env=env, check=False)
    if res.returncode != 0 and target != pkg:
        subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env, check=True)
    if not os.path.exists(lib):
        die(f"{pkg} installed but {lib} is still missing")


# The SQL test and lint tools, pinned to the versions Debian 12 ships (apt-get installs
# exactly these; a different candidate is refused rather than silently used).
SQL_TOOLS = {
    f"postgresql-{PG_MAJOR}-pgtap": ("1.2.0-3", "extension/pgtap.control"),
    f"postgresql-{PG_MAJOR}-plpgsql-check": ("2.3.0-1", "extension/plpgsql_check.control"),
    "libtap-parser-sourcehandler-pgtap-perl": ("3.36-2", "/usr/bin/pg_prove"),
}


def sharedir() -> str:
    out = subprocess.run(
        [os.path.join(bindir(), "pg_config"), "--sharedir"], capture_output=True, text=True, check=False,
    )
    return out.stdout.strip() or f"/usr/share/postgresql/{PG_MAJOR}"


def ensure_sql_tools() -> None:
    missing = [
        (pkg, ver) for pkg, (ver, probe) in SQL_TOOLS.items()
        if not os.path.exists(probe if probe.startswith("/") else os.path.join(sharedir(), probe))
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        die("missing " + ", ".join(p for p, _ in missing) + ": install them as root: apt-get install "
            + " ".join(f"{p}={v}" for p, v in missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("pgcluster: installing " + ", ".join(f"{p}={v}" for p, v in missing), file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                    *[f"{p}={v}" for p, v in missing]], env=env, check=True)


def as_owner(cmd: list[str]) -> list[str]:
    """Run as the postgres OS user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *cmd]
    return cmd


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(as_owner(cmd), check=True, **kw)


def paths(d: str) -> tuple[str, str, str]:
    d = os.path.realpath(d)  # DIR may be a link to where the postgres OS user can reach
    return d, os.path.join(d, "data"), os.path.join(d, "run")


def postgres_can_write(d: str) -> bool:
    return subprocess.run(as_owner(["test", "-w", d]), check=False).returncode == 0


def make_dir(d: str) -> None:
    """Create DIR. As root, the postgres OS user must reach it: when the project lives where
    it cannot (e.g. under a 0700 home), DIR becomes a link to a folder under /var/tmp."""
    if os.path.exists(d):
        return
    os.makedirs(d)
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(SUPERUSER)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    if postgres_can_write(d):
        return
    os.rmdir(d)
    key = hashlib.sha256(os.path.abspath(d).encode()).hexdigest()[:12]
    target = os.path.join("/var/tmp", f"ssr-pg-{key}")  # noqa: S108 - fixed name per project, 0700, postgres-owned
    os.makedirs(target, exist_ok=True)
    os.chown(target, pw.pw_uid, pw.pw_gid)
    os.chmod(target, 0o700)
    os.symlink(target, d)
    print(f"pgcluster: the {SUPERUSER} OS user cannot reach {d}; the cluster lives in {target}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_running(data: str) -> bool:
    if not os.path.exists(os.path.join(data, "postmaster.pid")):
        return False
    res = subprocess.run(
        as_owner([os.path.join(bindir(), "pg_ctl"), "status", "-D", data]),
        capture_output=True, check=False,
    )
    return res.returncode == 0


def read_port(d: str) -> int:
    with open(os.path.join(d, "port"), encoding="ascii") as fh:
        return int(fh.read().strip())


def url(d: str, db: str) -> str:
    return f"postgresql://{SUPERUSER}@127.0.0.1:{read_port(d)}/{db}"


# What --throwaway adds: a crash may lose or corrupt anything, in exchange for speed.
RELAXED = ("fsync", "synchronous_commit", "full_page_writes")
THROWAWAY_MARK = "# throwaway cluster: durability off (tests only)"


def conf_path(data: str) -> str:
    return os.path.join(data, "postgresql.conf")


def relaxed_settings(data: str) -> list[str]:
    """Lines of postgresql.conf / postgresql.auto.conf that turn a durability setting off."""
    found = []
    for name in ("postgresql.conf", "postgresql.auto.conf"):
        path = os.path.join(data, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition("=")
                if key.strip() in RELAXED and value.split("#")[0].strip().strip("'").lower() in ("off", "false", "0", "no"):
                    found.append(f"{name}: {line.strip()}")
    return found


def is_throwaway(data: str) -> bool:
    with open(conf_path(data), encoding="utf-8") as fh:
        return THROWAWAY_MARK in fh.read()


def make_durable(d: str, data: str) -> None:
    """Remove every setting that turns durability off, flush the files, and (re)start later."""
    found = relaxed_settings(data)
    if not found:
        return
    print(f"pgcluster: {d} was created with durability off ({'; '.join(found)}); "
          "making it durable (PostgreSQL's defaults): stop, remove the settings, sync, start", file=sys.stderr)
    stop(d)
    for name in ("postgresql.conf", "postgresql.auto.conf"):
        path = os.path.join(data, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
        kept = [ln for ln in lines if ln.partition("=")[0].strip() not in RELAXED and ln.strip() != THROWAWAY_MARK]
        if kept != lines:
            tmp = path + ".ssr-tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(kept)
            shutil.copymode(path, tmp)
            st = os.stat(path)
            os.chown(tmp, st.st_uid, st.st_gid)
            os.replace(tmp, path)
    # Files written while fsync was off may still sit in the OS cache: flush them before relying on them.
    run([os.path.join(bindir(), "initdb"), "--sync-only", "-D", data], stdout=subprocess.DEVNULL)


def init(d: str, data: str, rundir: str, throwaway: bool = False) -> None:
    os.makedirs(rundir, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(SUPERUSER)
        for p in (d, rundir):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        if not postgres_can_write(d):
            die(f"the {SUPERUSER} OS user cannot write {d}: check the parent folders' permissions")
    run([
        os.path.join(bindir(), "initdb"), "-D", data, "-U", SUPERUSER,
        "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", *(["--no-sync"] if throwaway else []),
    ], stdout=subprocess.DEVNULL)
    with open(os.path.join(data, "postgresql.conf"), "a", encoding="ascii") as fh:
        fh.write(
            "\n# smart-session-routing embedded cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{rundir}'\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
        )
        if throwaway:
            fh.write(f"{THROWAWAY_MARK}\n" + "".join(f"{k} = off\n" for k in RELAXED))
    with open(os.path.join(d, "port"), "w", encoding="ascii") as fh:
        fh.write(str(free_port()))


def start(d: str, db: str, throwaway: bool = False) -> None:
    make_dir(os.path.abspath(d))
    d, data, rundir = paths(d)
    if not os.path.exists(os.path.join(data, "PG_VERSION")):
        init(d, data, rundir, throwaway)
    elif not (throwaway and is_throwaway(data)):
        make_durable(d, data)  # never relax an existing cluster; harden one made by an older version
    if not is_running(data):
        port = read_port(d)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                port = free_port()
                with open(os.path.join(d, "port"), "w", encoding="ascii") as fh:
                    fh.write(str(port))
        run([
            os.path.join(bindir(), "pg_ctl"), "start", "-D", data, "-w", "-t", "60",
            "-l", os.path.join(d, "server.log"), "-o", f"-p {port}",
        ], stdout=subprocess.DEVNULL)
    psql = os.path.join(bindir(), "psql")
    base = [psql, "-X", "-q", "-h", rundir, "-p", str(read_port(d)), "-U", SUPERUSER, "-d", "postgres"]
    for _ in range(50):
        if subprocess.run([*base, "-c", "select 1"], capture_output=True, check=False).returncode == 0:
            break
        time.sleep(0.1)
    if not is_throwaway(data):
        off = subprocess.run(
            [*base, "-tAc", "select string_agg(name, ', ') from pg_settings "
             f"where name in ({', '.join(repr(k) for k in RELAXED)}) and setting = 'off'"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        if off:
            print(f"pgcluster: WARNING: {off} off in {d} (set outside postgresql.conf): "
                  "a crash may lose acknowledged commits", file=sys.stderr)
    exists = subprocess.run(
        [*base, "-tAc", f"select 1 from pg_database where datname = '{db}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run([*base, "-c", f'create database "{db}"'], check=True, stdout=subprocess.DEVNULL)
    print(url(d, db))


def stop(d: str, mode: str = "fast") -> None:
    d, data, _ = paths(d)
    if is_running(data):
        run([os.path.join(bindir(), "pg_ctl"), "stop", "-D", data, "-m", mode, "-w"],
            stdout=subprocess.DEVNULL)


def destroy(d: str) -> None:
    stop(d)
    link = os.path.abspath(d)
    shutil.rmtree(os.path.realpath(link), ignore_errors=True)
    if os.path.islink(link):
        os.unlink(link)


APP_ROLE = "ssr_app"


def app_url(owner_url: str, enable_login: bool = False) -> str:
    """owner_url as the app's login role (hosts, ports, database and options kept; multi-host too)."""
    from urllib.parse import urlsplit, urlunsplit

    if enable_login:
        subprocess.run([os.path.join(bindir(), "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", owner_url,
                        "-c", f"ALTER ROLE {APP_ROLE} LOGIN"], check=True, stdout=subprocess.DEVNULL)
    u = urlsplit(owner_url)
    hosts = u.netloc.rsplit("@", 1)[-1]
    return urlunsplit((u.scheme, f"{APP_ROLE}@{hosts}", u.path, u.query, u.fragment))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["ensure-plpython", "ensure-sql-tools", "ensure-pg-cron", "start", "stop", "url",
                                    "destroy", "app-url"])
    ap.add_argument("dir", nargs="?", help="the cluster's folder (app-url: the owner's URL)")
    ap.add_argument("--db", default="ssr")
    ap.add_argument("--enable-login", action="store_true")
    ap.add_argument("--throwaway", action="store_true",
                    help="create the cluster with fsync, synchronous_commit and full_page_writes off "
                         "(a crash may lose anything: temporary test clusters only)")
    ap.add_argument("--mode", choices=["smart", "fast", "immediate"], default="fast", help="stop mode")
    a = ap.parse_args()
    if a.cmd == "app-url":
        if not a.dir:
            die("app-url needs the owner's URL")
        print(app_url(a.dir, a.enable_login))
        return
    if a.cmd == "ensure-plpython":
        ensure_plpython()
        return
    if a.cmd == "ensure-sql-tools":
        ensure_sql_tools()
        return
    if a.cmd == "ensure-pg-cron":
        ensure_pg_cron()
        return
    if not a.dir:
        die("DIR is required")
    if a.cmd == "start":
        start(a.dir, a.db, a.throwaway)
    elif a.cmd == "stop":
        stop(a.dir, a.mode)
    elif a.cmd == "url":
        print(url(os.path.realpath(a.dir), a.db))
    elif a.cmd == "destroy":
        destroy(a.dir)


if __name__ == "__main__":
    main()
