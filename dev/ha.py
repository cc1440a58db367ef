#!/usr/bin/env python3
"""A local high-availability setup: pg_auto_failover (monitor, primary, synchronous standby).

    python -m dev.ha ensure               install pg_auto_failover when absent (root: apt-get,
                                            the server's package pinned to its installed version)
    python -m dev.ha up DIR [--db ssr]    create on first use, start, wait for primary + secondary
                                            with synchronous replication; print the write URL
    python -m dev.ha url DIR [--read]     the multi-host URL: read-write (default) or prefer-standby
    python -m dev.ha state DIR            pg_autoctl show state
    python -m dev.ha kill-primary DIR     SIGKILL the primary's keeper and postmaster (try a failover;
                                            `up` afterwards brings the lost node back as a standby)
    python -m dev.ha stop DIR             stop both nodes and the monitor (every process of DIR)
    python -m dev.ha destroy DIR          stop, then delete DIR

DIR holds the monitor and the nodes (DIR/monitor, DIR/node1, DIR/node2), pg_autoctl's
configuration and state (DIR/xdg) and logs (DIR/log). As root everything runs as the
`postgres` OS user (initdb refuses root). Every instance listens on 127.0.0.1 only, on
ports chosen on first use and kept in DIR/ports.json.

Authentication, as dev/pgcluster.py's clusters: no trust anywhere. The monitor and the first node
are initialised here (initdb --auth-local=peer --auth-host=scram-sha-256, pg_hba.conf and the
pg_ident map of pgcluster, which also lets the postgres OS user be pg_auto_failover's roles on the
socket) before pg_autoctl takes them over (`--skip-pg-hba`: even with `--auth scram-sha-256` it adds a
`trust` line for its health checks); the standby is a copy of the primary. The sockets sit in DIR/run (0700). Passwords are
random: DIR/passfile (0600, who runs the tool: the superuser and the logins; the URLs printed name
it) and DIR/server.pgpass (0600, the postgres OS user: autoctl_node, pgautofailover_monitor and
pgautofailover_replicator, given to pg_autoctl and the servers it starts as PGPASSFILE).

Failover is tuned to take seconds instead of the defaults' ~50 s (see MONITOR_SETTINGS and
KEEPER_SETTINGS): it stays safe because replication is synchronous, so a commit the primary
acknowledged is on the standby, and a primary cut off from its standby cannot acknowledge one.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote

try:
    from dev import pgcluster
except ImportError:  # run as a script: tools/ is on sys.path
    import pgcluster  # type: ignore[no-redef]

PACKAGE = f"postgresql-{pgcluster.PG_MAJOR}-auto-failover"
NODES = ("node1", "node2")

# The monitor (pgautofailover.*, milliseconds). Defaults: health check every 5 s with a 5 s
# timeout and 2 retries 2 s apart, a node unhealthy after 20 s without a report, 30 s for an
# unreachable primary to demote itself: ~50 s from a lost primary to writes on the standby.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    # Keepers report every second; 3 s without a report and a failed health check = down.
    "pgautofailover.node_considered_unhealthy_timeout": 3000,
    # How long the promoted standby waits for an unreachable primary to stop itself. Short is
    # safe here: the old primary's commits wait for its synchronous standby, which is gone, so
    # it cannot acknowledge a write meanwhile; its keeper stops it (KEEPER_SETTINGS).
    "pgautofailover.primary_demote_timeout": 2000,
    # After the monitor (re)starts, nodes get this long to report before one can be found
    # unhealthy (the default 10 s: a restart of the whole setup must not look like a failure).
    "pgautofailover.startup_grace_period": 10000,
}
# Each keeper (pg_autoctl.cfg, seconds): a primary that reaches neither the monitor nor its
# standby for this long demotes itself (default 20 s).
KEEPER_SETTINGS = {"timeout.network_partition_timeout": 5}
# The roles pg_auto_failover connects as (over TCP, scram-sha-256): their passwords in DIR/server.pgpass.
MONITOR_ROLE = "autoctl_node"  # keepers -> monitor
SERVICE_ROLES = ("pgautofailover_monitor", "pgautofailover_replicator")  # monitor's health checks, standbys
# Appended to each node's postgresql.conf (after pg_autoctl's includes, so these win).
NODE_CONF = """
# smart-session-routing HA node (durable: fsync, full_page_writes and synchronous_commit stay on)
max_connections = 200
synchronous_commit = on
wal_keep_size = '1GB'
"""


def die(msg: str) -> None:
    print(f"ha: {msg}", file=sys.stderr)
    sys.exit(1)


def pg_autoctl() -> str | None:
    return shutil.which("pg_autoctl") or (
        "/usr/bin/pg_autoctl" if os.path.exists("/usr/bin/pg_autoctl") else None
    )


def installed() -> bool:
    """pg_autoctl and the monitor's extension (both come with the Debian package)."""
    return pg_autoctl() is not None and os.path.exists(os.path.join(pgcluster.pkglibdir(), "pgautofailover.so"))


@functools.cache
def ensure() -> str:
    """pg_autoctl's path; installs the Debian package when it is missing (root only)."""
    found = pg_autoctl()
    if found and installed():
        return found
    if os.geteuid() != 0:
        die(f"pg_auto_failover is missing. Install it as root: apt-get install {PACKAGE}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    server = f"postgresql-{pgcluster.PG_MAJOR}"
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", server],
                             capture_output=True, text=True, check=False).stdout.strip()
    print(f"ha: installing {PACKAGE} ({pgcluster.server_version()})", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    # Naming the installed server version keeps apt from upgrading the server with it.
    pinned = [f"{server}={version}"] if version else []
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE, *pinned],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    found = pg_autoctl()
    if not found:
        die(f"{PACKAGE} installed but pg_autoctl is still missing")
    return found


class Cluster:
    """The monitor and two nodes kept in one folder."""

    def __init__(self, d: str, db: str = "ssr"):
        self.dir = os.path.realpath(d) if os.path.exists(d) else os.path.abspath(d)
        self.link = os.path.abspath(d)
        self.db = db

    # --- paths, ports, environment ----------------------------------------------------

    def data(self, name: str) -> str:
        return os.path.join(self.dir, name)

    @property
    def ports(self) -> dict[str, int]:
        try:
            with open(os.path.join(self.dir, "ports.json"), encoding="ascii") as fh:
                return json.load(fh)
        except FileNotFoundError:
            die(f"no HA setup in {self.link} (make ha, or python -m dev.ha up {self.link})")
            raise  # unreachable

    @property
    def rundir(self) -> str:
        return os.path.join(self.dir, "run")

    @property
    def passfile(self) -> str:
        return os.path.join(self.dir, pgcluster.PASSFILE)

    @property
    def server_pgpass(self) -> str:
        return os.path.join(self.dir, "server.pgpass")

    def env(self) -> dict[str, str]:
        xdg = os.path.join(self.dir, "xdg")
        home = pwd.getpwnam(pgcluster.SUPERUSER).pw_dir if os.geteuid() == 0 else os.environ.get("HOME", "/")
        return {
            "PATH": f"{pgcluster.bindir()}:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PG_CONFIG": os.path.join(pgcluster.bindir(), "pg_config"),
            "XDG_CONFIG_HOME": os.path.join(xdg, "config"),
            "XDG_DATA_HOME": os.path.join(xdg, "data"),
            "XDG_RUNTIME_DIR": os.path.join(xdg, "run"),
            # pg_autoctl's own connections: its Postgres through the private socket folder (peer),
            # the monitor and the other node over TCP with the passwords of server.pgpass (inherited
            # by the servers it starts: the monitor's health checks, the standby's replication).
            "PGHOST": self.rundir,
            "PGPASSFILE": self.server_pgpass,
        }

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        pw = pwd.getpwnam(pgcluster.SUPERUSER)
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def autoctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [ensure(), *args], env=self.env(), cwd=self.dir, text=True, check=False,
            capture_output=True, **self._as_owner(),
        )
        if check and done.returncode != 0:
            die(f"pg_autoctl {' '.join(args[:2])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done

    def monitor_uri(self) -> str:
        return f"postgres://autoctl_node@127.0.0.1:{self.ports['monitor']}/pg_auto_failover?sslmode=disable"

    def _passfile_param(self) -> str:
        return f"&passfile={quote(self.passfile, safe='/')}"

    def url(self, read: bool = False, db: str | None = None) -> str:
        p = self.ports
        hosts = ",".join(f"127.0.0.1:{p[n]}" for n in NODES)
        attrs = "prefer-standby" if read else "read-write"
        return (f"postgresql://{pgcluster.SUPERUSER}@{hosts}/{db or self.db}"
                f"?target_session_attrs={attrs}&connect_timeout=2{self._passfile_param()}")

    def node_url(self, name: str, db: str | None = None) -> str:
        return (f"postgresql://{pgcluster.SUPERUSER}@127.0.0.1:{self.ports[name]}/{db or self.db}"
                f"?connect_timeout=2{self._passfile_param()}")

    # --- life cycle ---------------------------------------------------------------------

    def created(self, name: str) -> bool:
        return os.path.exists(os.path.join(self.data(name), "PG_VERSION"))

    def pid(self, name: str) -> int | None:
        """pid of the `pg_autoctl run` supervisor of a node (its process group), if alive."""
        try:
            with open(os.path.join(self.dir, "log", f"{name}.pid"), encoding="ascii") as fh:
                pid = int(fh.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid if self._is_autoctl(pid, name) else None

    def _is_autoctl(self, pid: int, name: str) -> bool:
        """Is pid our `pg_autoctl run` of that instance (not a reused pid, not a zombie)?"""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            return False
        return b"pg_autoctl" in cmd and self.data(name).encode() in cmd

    def postmaster_pid(self, name: str) -> int | None:
        try:
            with open(os.path.join(self.data(name), "postmaster.pid"), encoding="ascii") as fh:
                return int(fh.readline().strip())
        except (OSError, ValueError):
            return None

    def run_node(self, name: str) -> int:
        """Start `pg_autoctl run` for an instance in the background (its own session)."""
        pid = self.pid(name)
        if pid:
            return pid
        log_dir = os.path.join(self.dir, "log")
        fd = pgcluster.open_private(os.path.join(log_dir, f"{name}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        with os.fdopen(fd, "ab") as log:
            proc = subprocess.Popen(
                [ensure(), "run", "--pgdata", self.data(name)], env=self.env(), cwd=self.dir,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                **self._as_owner(),
            )
        pgcluster.write_private(os.path.join(log_dir, f"{name}.pid"), str(proc.pid), 0o644)
        return proc.pid

    # --- authentication -----------------------------------------------------------------

    def init_instance(self, name: str) -> None:
        """initdb with peer (socket) and scram-sha-256 (TCP), no trust at any moment; pg_autoctl
        then takes the instance over (`create` on an existing PGDATA)."""
        data = self.data(name)
        subprocess.run([os.path.join(pgcluster.bindir(), "initdb"), "-D", data, "-U", pgcluster.SUPERUSER,
                        "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"],
                       env=self.env(), cwd=self.dir, check=True, stdout=subprocess.DEVNULL, **self._as_owner())
        conf = pgcluster.conf_path(data)
        pgcluster.write_private(conf, pgcluster.read_private(conf) + (
            "\n# smart-session-routing HA instance: the socket in a private folder\n"
            f"unix_socket_directories = '{self.rundir}'\n"
            "unix_socket_permissions = 0700\n"
            "password_encryption = 'scram-sha-256'\n"), 0o600, pgcluster.owner_ids())
        pgcluster.write_auth_files(data, (MONITOR_ROLE, *SERVICE_ROLES))

    def hba_methods(self) -> list[str]:
        """The authentication methods of every instance's pg_hba.conf."""
        methods = set()
        for name in ("monitor", *NODES):
            hba = os.path.join(self.data(name), "pg_hba.conf")
            if os.path.lexists(hba):
                lines = [ln.split("#")[0].split() for ln in pgcluster.read_private(hba).splitlines()]
                methods |= {ln[3] if ln[0] == "local" else ln[4] for ln in lines if ln}
        return sorted(methods)

    def check_no_trust(self) -> None:
        if "trust" in self.hba_methods():
            die(f"{self.link} was created by an older version with trust authentication: "
                "remove it (make ha-clean) and create it again (make ha)")

    def socket_sql(self, name: str, sql: str, timeout: float = 60) -> str:
        """SQL as the superuser through the instance's socket (peer); waits for it to accept."""
        cmd = [os.path.join(pgcluster.bindir(), "psql"), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
               "-h", self.rundir, "-p", str(self.ports[name]), "-U", pgcluster.SUPERUSER, "-d", "postgres"]
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(cmd, input=sql, text=True, capture_output=True, check=False)
            if done.returncode == 0:
                return done.stdout
            if time.monotonic() > deadline:
                die(f"psql on {name} failed: {done.stderr.strip()}")
            time.sleep(0.2)

    def set_passwords(self, name: str, roles: tuple[str, ...]) -> None:
        """The passwords of the passfiles for roles on instance name (waits for the roles to exist:
        pg_autoctl creates its own while a node starts)."""
        passwords = {**pgcluster.read_passfile(self.server_pgpass), **pgcluster.read_passfile(self.passfile)}
        names = ", ".join(f"'{r}'" for r in roles)
        self.wait_until(lambda: len(self.socket_sql(name, f"SELECT rolname FROM pg_roles WHERE rolname IN ({names});")
                                    .split()) == len(roles), 120, f"roles {names} on {name}")
        self.socket_sql(name, "".join(pgcluster.login_sql(r, passwords[r]) for r in roles))

    def create(self) -> None:
        pgcluster.make_dir(self.link)
        self.dir = os.path.realpath(self.link)
        # pg_autoctl keeps its pid and state files in XDG_RUNTIME_DIR, and in /tmp when that
        # folder does not exist: create it, so that everything of the setup stays in DIR. Each
        # folder the postgres OS user's, 0700, never made or changed through a link.
        for sub in ("xdg", "xdg/config", "xdg/data", "xdg/run", "log", "run"):
            pgcluster.ensure_private_dir(os.path.join(self.dir, sub))
        if not os.path.lexists(os.path.join(self.dir, "ports.json")):
            ports = {"monitor": pgcluster.free_port(), "node1": pgcluster.free_port(), "node2": pgcluster.free_port()}
            pgcluster.write_private(os.path.join(self.dir, "ports.json"), json.dumps(ports), 0o644)
        self.check_no_trust()
        pgcluster.ensure_passfile(self.passfile)
        if not os.path.lexists(self.server_pgpass):
            lines = "".join(f"127.0.0.1:*:*:{r}:{secrets.token_urlsafe(24)}\n"
                            for r in (MONITOR_ROLE, *SERVICE_ROLES))
            pgcluster.write_private(self.server_pgpass, lines, 0o600, pgcluster.owner_ids())
        if all(self.created(n) for n in ("monitor", *NODES)):
            # A restart: the monitor, then the node it knows as primary until it reports its
            # Postgres running, then the standby. A failover needs a healthy standby, so a
            # primary still starting is not failed over (keepers cannot start without the monitor).
            self.run_node("monitor")
            self.tune_monitor()
            started = self.monitor_sql("SELECT pg_postmaster_start_time()")[0][0]
            rows = self.monitor_sql("SELECT nodename FROM pgautofailover.node "
                                    "ORDER BY reportedstate::text IN ('primary', 'wait_primary') DESC, nodename")
            first, *rest = [r[0] for r in rows]
            self.run_node(first)
            # A report made since the monitor started (the stored one predates the stop).
            self.wait_until(lambda: self.monitor_sql(
                "SELECT reportedpgisrunning AND reporttime > %s FROM pgautofailover.node WHERE nodename = %s",
                (started, first))[0][0], 120, f"{first} running")
            for name in rest:
                self.run_node(name)
            return
        pgctl = os.path.join(pgcluster.bindir(), "pg_ctl")
        # --skip-pg-hba: pg_autoctl would add `trust` for its health checks whatever --auth says; the
        # pg_hba.conf written here already lets every role in over 127.0.0.1 with scram-sha-256.
        common = ["--hostname", "127.0.0.1", "--skip-pg-hba", "--no-ssl", "--pgctl", pgctl]
        if not self.created("monitor"):
            self.init_instance("monitor")
            self.autoctl("create", "monitor", "--pgdata", self.data("monitor"),
                         "--pgport", str(self.ports["monitor"]), *common)
            self.autoctl("config", "set", "--pgdata", self.data("monitor"),
                         "postgresql.listen_addresses", "127.0.0.1")
            self.run_node("monitor")
            self.set_passwords("monitor", (pgcluster.SUPERUSER, MONITOR_ROLE))
        self.run_node("monitor")
        self.tune_monitor()
        for name in NODES:
            if not self.created(name):
                first = not any(self.created(n) for n in NODES)
                if first:  # the standby is a copy of the primary (pg_basebackup): its files too
                    self.init_instance(name)
                self.autoctl("create", "postgres", "--pgdata", self.data(name), "--pgport", str(self.ports[name]),
                             "--pghost", self.rundir, "--listen", "127.0.0.1", "--dbname", self.db, "--name", name,
                             "--monitor", self.monitor_uri(), *common)
                conf = os.path.join(self.data(name), "postgresql.conf")
                with open(conf, encoding="utf-8") as fh:
                    present = NODE_CONF.strip().splitlines()[0] in fh.read()
                if not present:  # a standby's copy (pg_basebackup) already has it
                    with open(conf, "a", encoding="ascii") as fh:
                        fh.write(NODE_CONF)
                for key, value in KEEPER_SETTINGS.items():
                    self.autoctl("config", "set", "--pgdata", self.data(name), key, str(value))
                self.run_node(name)
                if first:  # roles replicate to the standby
                    self.set_passwords(name, (pgcluster.SUPERUSER, *SERVICE_ROLES))
            self.run_node(name)

    def monitor_sql(self, sql: str, params: tuple | None = None) -> list[tuple]:
        import psycopg

        url = self.node_url("monitor", "pg_auto_failover")
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                    cur = conn.execute(sql, params)
                    return cur.fetchall() if cur.description else []
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def tune_monitor(self) -> None:
        for key, value in MONITOR_SETTINGS.items():
            self.monitor_sql(f"ALTER SYSTEM SET {key} = {int(value)}")
        self.monitor_sql("SELECT pg_reload_conf()")

    def states(self) -> dict[str, tuple[str, str]]:
        """name -> (reported state, assigned goal state), from the monitor."""
        rows = self.monitor_sql("SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node")
        return {name: (reported, goal) for name, reported, goal in rows}

    def primary(self) -> str | None:
        for name, (reported, goal) in self.states().items():
            if reported in ("primary", "wait_primary") and goal == reported:
                return name
        return None

    def wait_until(self, pred, timeout: float, what: str) -> float:
        t0 = time.monotonic()
        while True:
            try:
                if pred():
                    return time.monotonic() - t0
            except Exception:  # noqa: S110 - a node or the monitor restarting: ask again
                pass
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"ha: {what} not reached after {timeout:.0f} s: {self.describe()}")
            time.sleep(0.1)

    def healthy(self) -> bool:
        """One primary and one secondary, each in its assigned state, replication synchronous."""
        states = self.states()
        got = sorted(r for r, g in states.values() if r == g)
        return got == ["primary", "secondary"] and self.sync_standby() is not None

    def sync_standby(self) -> str | None:
        """application_name of a standby the primary waits for on commit (sync or quorum), if any."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            names = conn.execute("SHOW synchronous_standby_names").fetchone()[0]
            commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
            row = conn.execute(
                "SELECT application_name FROM pg_stat_replication "
                "WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')"
            ).fetchone()
        if not names or commit not in ("on", "remote_write", "remote_apply") or row is None:
            return None
        return row[0]

    def describe(self) -> str:
        try:
            return ", ".join(f"{n}: {r}->{g}" for n, (r, g) in sorted(self.states().items()))
        except Exception as exc:
            return f"monitor unreachable ({exc})"

    def up(self, timeout: float = 120) -> str:
        ensure()
        self.create()
        self.wait_until(self.healthy, timeout, "primary + synchronous secondary")
        return self.url()

    def kill(self, name: str) -> float:
        """SIGKILL a node's keeper and its postmaster (the node is lost); returns time.monotonic()."""
        pid = self.pid(name)
        postmaster = self.postmaster_pid(name)
        t = time.monotonic()
        if pid:
            os.killpg(pid, signal.SIGKILL)
        if postmaster:
            try:
                os.kill(postmaster, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return t

    def rejoin_method(self, name: str) -> str:
        """How a lost node last rejoined, from its log: pg_rewind or a fresh pg_basebackup."""
        try:
            with open(os.path.join(self.dir, "log", f"{name}.log"), encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            return "unknown"
        tail = text[text.rfind("Rewinding PostgreSQL"):] if "Rewinding PostgreSQL" in text else ""
        if not tail:
            return "unknown"
        if "pg_basebackup" in tail:
            why = [ln.split("pg_rewind: ", 1)[1] for ln in tail.splitlines() if "pg_rewind: " in ln
                   and ("error" in ln.lower() or "fatal" in ln.lower())]
            return "pg_basebackup after pg_rewind failed" + (f" ({why[0].strip()})" if why else "")
        return "pg_rewind"

    def stop(self) -> None:
        """SIGTERM each `pg_autoctl run` (what `pg_autoctl stop` does: Postgres stops with
        `-m fast`), the monitor first so that it orders no failover while the nodes stop."""
        deadline = time.monotonic() + 30
        for group in (("monitor",), NODES):
            for name in group:
                pid = self.pid(name)
                if pid:
                    os.kill(pid, signal.SIGTERM)
            for name in group:
                while self.pid(name) and time.monotonic() < deadline:
                    time.sleep(0.1)
                pid = self.pid(name)
                if pid:  # did not stop in time
                    os.killpg(pid, signal.SIGKILL)
                postmaster = self.postmaster_pid(name)
                if postmaster and self._alive_postgres(postmaster, name):
                    os.kill(postmaster, signal.SIGKILL)

    def _alive_postgres(self, pid: int, name: str) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return self.data(name).encode() in fh.read()
        except OSError:
            return False

    def destroy(self) -> None:
        if os.path.exists(self.link):
            self.dir = os.path.realpath(self.link)
            if os.path.exists(os.path.join(self.dir, "ports.json")):
                self.stop()
            shutil.rmtree(self.dir, ignore_errors=True)
        if os.path.islink(self.link):
            os.unlink(self.link)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["ensure", "up", "url", "state", "kill-primary", "stop", "destroy"])
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--db", default="ssr")
    ap.add_argument("--read", action="store_true", help="url: the prefer-standby URL for reads that may lag")
    a = ap.parse_args()
    if a.cmd == "ensure":
        print(ensure())
        return
    if not a.dir:
        die("DIR is required")
    c = Cluster(a.dir, a.db)
    if a.cmd in ("url", "state", "kill-primary") and not os.path.exists(os.path.join(c.dir, "ports.json")):
        die(f"no HA setup in {a.dir} (make ha, or python -m dev.ha up {a.dir})")
    if a.cmd == "up":
        print(c.up())
    elif a.cmd == "url":
        print(c.url(read=a.read))
    elif a.cmd == "state":
        print(c.autoctl("show", "state", "--pgdata", c.data("monitor")).stdout, end="")
    elif a.cmd == "kill-primary":
        name = c.primary()
        if name is None:
            die("no primary to kill: " + c.describe())
        c.kill(name)
        print(f"killed {name} (keeper and postmaster); the monitor promotes the standby in a few seconds")
    elif a.cmd == "stop":
        if os.path.exists(os.path.join(c.dir, "ports.json")):
            c.stop()
    elif a.cmd == "destroy":
        c.destroy()


if __name__ == "__main__":
    main()
