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
    pgcluster.py login-url URL --role ROLE [--enable-login]
                                       URL as login ROLE (ssr_app, ssr_payments, ssr_worker, ssr_bi):
                                       hosts, port, database and query (passfile=...) kept;
                                       --enable-login first gives the role LOGIN, and the password of
                                       URL's passfile, through URL (the cluster's superuser)
    pgcluster.py enable-logins URL     --enable-login for each of those roles that exists
    pgcluster.py app-url URL [--enable-login]
                                       login-url URL --role ssr_app

The cluster listens on a unix socket inside DIR/run and on 127.0.0.1 at a free port
(remembered in DIR/port so a restart keeps its URL). initdb refuses to run as
root, so when root the cluster belongs to the `postgres` OS user.

Authentication (no `trust` anywhere): the socket uses `peer` with the map `ssr` of
pg_ident.conf (the OS user who runs this tool and the cluster's OS user may connect as the
superuser `postgres`, nobody else), and its folder DIR/run is 0700. TCP (127.0.0.1) uses
scram-sha-256. The passwords of `postgres` and of the logins are random, generated at
creation and kept in DIR/passfile (a libpq password file, 0600, owned by who runs the tool);
the URLs printed name it: postgresql://postgres@127.0.0.1:PORT/DB?passfile=DIR/passfile.
They are never printed. A cluster made by an older version (trust) is converted on `start`.

Folders: DIR is created 0700 (owned by the cluster's OS user), or an existing one is
accepted only when it is a real folder (not a link) owned by that user or by the one running
the tool and writable by nobody else. As root, when the postgres OS user cannot reach DIR
(e.g. a project under a 0700 home), the cluster lives in a new private folder made by
tempfile.mkdtemp under /var/tmp and DIR becomes a link to it; a link whose target is not such a
folder is refused. Nothing is chowned or chmodded through a link.

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
import base64
import hashlib
import hmac
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

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


def owner_ids() -> tuple[int, int]:
    """uid, gid of the cluster's OS user: postgres when root, else whoever runs the tool."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam(SUPERUSER)
        return pw.pw_uid, pw.pw_gid
    return os.geteuid(), os.getegid()


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def postgres_can_write(d: str) -> bool:
    return subprocess.run(as_owner(["test", "-w", d]), check=False).returncode == 0


def postgres_can_reach(d: str) -> bool:
    return subprocess.run(as_owner(["test", "-x", d]), check=False).returncode == 0


def check_private_dir(path: str, what: str = "folder") -> os.stat_result:
    """path must be a real folder (never a link) owned by the cluster's OS user or by whoever runs
    the tool, and writable by nobody else; dies with the reason otherwise."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        die(f"{path} does not exist")
    if stat.S_ISLNK(st.st_mode):
        die(f"refused: the cluster {what} {path} is a link (to {os.readlink(path)}); a link inside a cluster "
            "folder is never followed. Remove it (someone else may have planted it)")
    if not stat.S_ISDIR(st.st_mode):
        die(f"refused: the cluster {what} {path} is not a folder")
    allowed = {owner_ids()[0], os.geteuid()}
    if st.st_uid not in allowed:
        die(f"refused: the cluster {what} {path} belongs to {user_name(st.st_uid)}, not to "
            f"{' or '.join(sorted(user_name(u) for u in allowed))} (made by someone else?). Remove it and start again")
    if st.st_mode & 0o022:
        die(f"refused: the cluster {what} {path} is writable by others (mode {stat.S_IMODE(st.st_mode):o})")
    return st


def secure_dir(path: str, mode: int = 0o700) -> None:
    """Give an existing private folder (see check_private_dir) to the cluster's OS user with `mode`,
    through a descriptor opened with O_NOFOLLOW: never through a link."""
    check_private_dir(path)
    uid, gid = owner_ids()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if (st.st_uid, st.st_gid) != (uid, gid) and os.geteuid() == 0:
            os.fchown(fd, uid, gid)
        if stat.S_IMODE(st.st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def ensure_private_dir(path: str, mode: int = 0o700) -> None:
    """A folder of the cluster: created (never through a link), or an existing one checked; then
    owned by the cluster's OS user with `mode`."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    secure_dir(path, mode)


def check_link(d: str) -> str:
    """DIR is a link (made by make_dir): it must be ours and point at a private folder; its target."""
    st = os.lstat(d)
    if st.st_uid not in (0, os.geteuid()):
        die(f"refused: {d} is a link made by {user_name(st.st_uid)}")
    target = os.readlink(d)
    if not os.path.isabs(target):
        target = os.path.join(os.path.dirname(d), target)
    check_private_dir(target, "folder (the target of the link " + d + ")")
    return target


def make_dir(d: str) -> None:
    """Create DIR (or check the one there), owned by the cluster's OS user, 0700. As root, when the
    postgres OS user cannot reach DIR (e.g. the project lives under a 0700 home), DIR becomes a link
    to a new private folder under /var/tmp (tempfile.mkdtemp: a fresh random name, nobody else's)."""
    d = os.path.abspath(d)
    if os.path.islink(d):
        check_link(d)
        return
    if os.path.lexists(d):
        secure_dir(d)
        return
    parent = os.path.dirname(d)
    os.makedirs(parent, exist_ok=True)
    if os.geteuid() == 0 and not postgres_can_reach(parent):
        target = tempfile.mkdtemp(prefix="ssr-pg-", dir="/var/tmp")  # new, 0700, random name
        secure_dir(target)
        os.symlink(target, d)
        print(f"pgcluster: the {SUPERUSER} OS user cannot reach {d}; the cluster lives in {target}", file=sys.stderr)
        return
    ensure_private_dir(d)


def open_private(path: str, flags: int, mode: int = 0o600) -> int:
    """os.open with O_NOFOLLOW: a file inside a cluster folder, never through a link."""
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)


def read_private(path: str) -> str:
    fd = open_private(path, os.O_RDONLY)
    with os.fdopen(fd, encoding="utf-8") as fh:
        return fh.read()


def write_private(path: str, text: str, mode: int = 0o600, owner: tuple[int, int] | None = None) -> None:
    """Replace path with text: a new file (O_EXCL, no link followed) renamed over it."""
    tmp = f"{path}.ssr-tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        if owner is not None and os.geteuid() == 0:
            os.fchown(fh.fileno(), *owner)
        os.fchmod(fh.fileno(), mode)
        fh.write(text)
    os.replace(tmp, path)


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
    return int(read_private(os.path.join(d, "port")).strip())


def write_port(d: str, port: int) -> None:
    write_private(os.path.join(d, "port"), str(port), 0o644)


# --- authentication: peer on the socket, scram-sha-256 on TCP, passwords in a libpq passfile ---

PASSFILE = "passfile"
ROLES = ("ssr_app", "ssr_payments", "ssr_worker", "ssr_bi")  # the logins; migrations create them NOLOGIN
LOGINS = (SUPERUSER, *ROLES)
IDENT_MAP = "ssr"
HBA = f"""# smart-session-routing cluster (dev/pgcluster.py): no trust anywhere.
# The socket (its folder is 0700): peer, mapped by pg_ident.conf map "{IDENT_MAP}" (who may be which role).
# TCP, 127.0.0.1 only: scram-sha-256, the passwords in the cluster folder's passfile (0600).
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  peer map={IDENT_MAP}
local   replication  all                  peer map={IDENT_MAP}
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
"""


def passfile_path(d: str) -> str:
    return os.path.join(os.path.realpath(d), PASSFILE)


def ident_conf(owner_roles: tuple[str, ...] = ()) -> str:
    """Map "ssr": the OS user who runs the tool and the cluster's OS user may be the superuser; the
    cluster's OS user also each of owner_roles (pg_auto_failover's own roles, for pg_autoctl)."""
    users = sorted({user_name(os.geteuid()), user_name(owner_ids()[0])})
    return ("# smart-session-routing cluster (dev/pgcluster.py): OS user -> role, for peer on the socket\n"
            "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n"
            + "".join(f"{IDENT_MAP}  {u}  {SUPERUSER}\n" for u in users)
            + "".join(f"{IDENT_MAP}  {user_name(owner_ids()[0])}  {r}\n" for r in owner_roles))


def _pgpass_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def read_passfile(path: str) -> dict[str, str]:
    """role -> password of a libpq passfile (the lines for 127.0.0.1 or any host)."""
    out: dict[str, str] = {}
    for line in read_private(path).splitlines():
        if not line or line.startswith("#"):
            continue
        fields, cur, esc = [], "", False
        for ch in line:
            if esc:
                cur, esc = cur + ch, False
            elif ch == "\\":
                esc = True
            elif ch == ":" and len(fields) < 4:
                fields.append(cur)
                cur = ""
            else:
                cur += ch
        fields.append(cur)
        if len(fields) == 5 and fields[0] in ("127.0.0.1", "*"):
            out.setdefault(fields[3], fields[4])
    return out


def ensure_passfile(path: str, roles: tuple[str, ...] = LOGINS) -> dict[str, str]:
    """The passfile (0600, owned by who runs the tool), with a random password for each role missing."""
    have: dict[str, str] = {}
    if os.path.lexists(path):
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            die(f"refused: {path} is not a file of {user_name(os.geteuid())} (a link? made by someone else?)")
        have = read_passfile(path)
        if stat.S_IMODE(st.st_mode) != 0o600:
            fd = open_private(path, os.O_RDONLY)
            try:
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
    missing = [r for r in roles if r not in have]
    if not missing:
        return have
    text = read_private(path) if have else "# hostname:port:database:username:password (dev/pgcluster.py)\n"
    for role in missing:
        have[role] = secrets.token_urlsafe(24)
        text += f"127.0.0.1:*:*:{_pgpass_field(role)}:{_pgpass_field(have[role])}\n"
    write_private(path, text, 0o600)
    return have


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for password (so the password itself never
    reaches the server's logs or pg_stat_activity)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(x: bytes) -> str:
        return base64.b64encode(x).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def login_sql(role: str, password: str | None) -> str:
    """ALTER ROLE giving role LOGIN (and password's verifier)."""
    sql = f'ALTER ROLE "{role}" LOGIN'
    if password is not None:
        sql += f" PASSWORD '{scram_verifier(password)}'"
    return sql + ";\n"


def write_auth_files(data: str, owner_roles: tuple[str, ...] = ()) -> bool:
    """pg_hba.conf and pg_ident.conf as above; True when a file changed (the server must reload)."""
    changed = False
    for name, text in (("pg_hba.conf", HBA), ("pg_ident.conf", ident_conf(owner_roles))):
        path = os.path.join(data, name)
        try:
            old = read_private(path)
        except FileNotFoundError:
            old = None
        if old != text:
            write_private(path, text, 0o600, owner_ids())
            changed = True
    return changed


def url(d: str, db: str) -> str:
    query = f"passfile={quote(passfile_path(d), safe='/')}" if os.path.exists(passfile_path(d)) else ""
    return urlunsplit(("postgresql", f"{SUPERUSER}@127.0.0.1:{read_port(d)}", f"/{db}", query, ""))


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
            st = os.lstat(path)
            write_private(path, "".join(kept), stat.S_IMODE(st.st_mode), owner_ids())
    # Files written while fsync was off may still sit in the OS cache: flush them before relying on them.
    run([os.path.join(bindir(), "initdb"), "--sync-only", "-D", data], stdout=subprocess.DEVNULL)


def init(d: str, data: str, rundir: str, throwaway: bool = False) -> None:
    if os.geteuid() == 0 and not postgres_can_write(d):
        die(f"the {SUPERUSER} OS user cannot write {d}: check the parent folders' permissions")
    ensure_private_dir(rundir)
    ensure_passfile(passfile_path(d))
    # No password yet and no trust: until start() sets the superuser's password (through the
    # socket, peer), nobody logs in over TCP.
    run([
        os.path.join(bindir(), "initdb"), "-D", data, "-U", SUPERUSER,
        "--auth-local=peer", "--auth-host=scram-sha-256",
        "--encoding=UTF8", "--locale=C.UTF-8", *(["--no-sync"] if throwaway else []),
    ], stdout=subprocess.DEVNULL)
    conf = (
        "\n# smart-session-routing embedded cluster\n"
        "listen_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{rundir}'\n"
        "unix_socket_permissions = 0700\n"
        "password_encryption = 'scram-sha-256'\n"
        "max_connections = 200\n"
        "shared_buffers = 256MB\n"
    )
    if throwaway:
        conf += f"{THROWAWAY_MARK}\n" + "".join(f"{k} = off\n" for k in RELAXED)
    path = conf_path(data)
    write_private(path, read_private(path) + conf, 0o600, owner_ids())
    write_auth_files(data)
    write_port(d, free_port())


def secure_cluster(d: str, data: str, rundir: str) -> bool:
    """Bring a cluster (also one made by an older version: trust, a 0755 folder) to the rules above:
    private folders, the passfile, pg_hba.conf / pg_ident.conf. True when the server must reload."""
    secure_dir(d)
    secure_dir(data)
    ensure_private_dir(rundir)
    ensure_passfile(passfile_path(d))
    return write_auth_files(data)


def superuser_psql(d: str, rundir: str) -> list[str]:
    """psql as the superuser through the socket (peer)."""
    return [os.path.join(bindir(), "psql"), "-X", "-q", "-h", rundir, "-p", str(read_port(d)),
            "-U", SUPERUSER, "-d", "postgres"]


def start(d: str, db: str, throwaway: bool = False) -> None:
    make_dir(os.path.abspath(d))
    d, data, rundir = paths(d)
    if not os.path.lexists(os.path.join(data, "PG_VERSION")):
        init(d, data, rundir, throwaway)
    elif not (throwaway and is_throwaway(data)):
        make_durable(d, data)  # never relax an existing cluster; harden one made by an older version
    reload = secure_cluster(d, data, rundir)
    if not is_running(data):
        reload = False
        port = read_port(d)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                port = free_port()
                write_port(d, port)
        run([
            os.path.join(bindir(), "pg_ctl"), "start", "-D", data, "-w", "-t", "60",
            "-l", os.path.join(d, "server.log"), "-o", f"-p {port}",
        ], stdout=subprocess.DEVNULL)
    base = superuser_psql(d, rundir)
    for _ in range(50):
        if subprocess.run([*base, "-c", "select 1"], capture_output=True, check=False).returncode == 0:
            break
        time.sleep(0.1)
    if reload:  # pg_hba.conf / pg_ident.conf changed under a running server (an older version's trust)
        subprocess.run([*base, "-c", "select pg_reload_conf()"], check=True, stdout=subprocess.DEVNULL)
    # The superuser's password, from the passfile (its verifier only; on stdin, never in argv).
    password = read_passfile(passfile_path(d))[SUPERUSER]
    subprocess.run([*base, "-v", "ON_ERROR_STOP=1"], input=login_sql(SUPERUSER, password), text=True,
                   check=True, stdout=subprocess.DEVNULL)
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


def conninfo_pairs(conninfo: str) -> dict[str, str]:
    """The parameters of a key=value connection string (libpq's quoting)."""
    pairs = re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", conninfo)
    return {k: re.sub(r"\\(.)", r"\1", v[1:-1]) if v.startswith("'") else v for k, v in pairs}


def make_conninfo(params: dict[str, str]) -> str:
    def q(v: str) -> str:
        return v if v and re.fullmatch(r"[^\s'\\]+", v) else "'" + re.sub(r"(['\\])", r"\\\1", v) + "'"
    return " ".join(f"{k}={q(v)}" for k, v in params.items())


def url_passfile(u: str) -> str | None:
    """The passfile a URL (or a key=value connection string) names, if any."""
    if "://" not in u:
        return conninfo_pairs(u).get("passfile")
    return (parse_qs(urlsplit(u).query).get("passfile") or [None])[0]


def psql_as(owner_url: str, sql: str, capture: bool = False) -> str:
    done = subprocess.run([os.path.join(bindir(), "psql"), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                           "-d", owner_url], input=sql, text=True, check=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return done.stdout or ""


def existing_roles(owner_url: str, roles: tuple[str, ...] = ROLES) -> list[str]:
    names = ", ".join(f"'{r}'" for r in roles)
    out = psql_as(owner_url, f"SELECT rolname FROM pg_roles WHERE rolname IN ({names}) ORDER BY 1;\n", capture=True)
    return out.split()


def enable_login(owner_url: str, role: str) -> None:
    """Give role LOGIN through owner_url (a superuser), with its password from the URL's passfile
    (a line added when missing). Without a passfile (a server of yours): LOGIN only."""
    if role not in existing_roles(owner_url, (role,)):
        die(f"role {role} does not exist (the migrations create it: run them first)")
    pf = url_passfile(owner_url)
    password = ensure_passfile(pf, (role,))[role] if pf else None
    psql_as(owner_url, login_sql(role, password))


def login_url(owner_url: str, role: str = APP_ROLE, enable: bool = False) -> str:
    """owner_url as login `role` (hosts, ports, database and query kept, passfile too; multi-host too)."""
    if enable:
        enable_login(owner_url, role)
    if "://" not in owner_url:  # a key=value connection string
        params = conninfo_pairs(owner_url)
        params.pop("password", None)
        return make_conninfo({**params, "user": role})
    u = urlsplit(owner_url)
    hosts = u.netloc.rsplit("@", 1)[-1]
    return urlunsplit((u.scheme, f"{quote(role)}@{hosts}", u.path, u.query, u.fragment))


def app_url(owner_url: str, enable_login: bool = False) -> str:
    """owner_url as the app's login role ssr_app."""
    return login_url(owner_url, APP_ROLE, enable_login)


def enable_logins(owner_url: str) -> list[str]:
    """LOGIN and a password for each of ROLES that exists; the roles done."""
    done = existing_roles(owner_url)
    for role in done:
        enable_login(owner_url, role)
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["ensure-plpython", "ensure-sql-tools", "ensure-pg-cron", "start", "stop", "url",
                                    "destroy", "login-url", "app-url", "enable-logins"])
    ap.add_argument("dir", nargs="?", help="the cluster's folder (login-url, app-url, enable-logins: the owner's URL)")
    ap.add_argument("--db", default="ssr")
    ap.add_argument("--role", choices=ROLES, help="login-url: the login")
    ap.add_argument("--enable-login", action="store_true")
    ap.add_argument("--throwaway", action="store_true",
                    help="create the cluster with fsync, synchronous_commit and full_page_writes off "
                         "(a crash may lose anything: temporary test clusters only)")
    ap.add_argument("--mode", choices=["smart", "fast", "immediate"], default="fast", help="stop mode")
    a = ap.parse_args()
    if a.cmd in ("login-url", "app-url", "enable-logins"):
        if not a.dir:
            die(f"{a.cmd} needs the owner's URL")
        if a.cmd == "enable-logins":
            done = enable_logins(a.dir)
            print(f"pgcluster: LOGIN and password for {', '.join(done) or 'no role (none exists yet)'}", file=sys.stderr)
            return
        if a.cmd == "login-url" and not a.role:
            die("login-url needs --role")
        print(login_url(a.dir, a.role or APP_ROLE, a.enable_login))
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
