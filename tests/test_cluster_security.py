"""The clusters we run (dev/pgcluster.py: `make run`'s .pg, the bench's, the tests'): another OS user
gets nothing. No trust: peer on a 0700 socket folder (mapped to the tool's OS user), scram-sha-256 on
TCP with random passwords in a 0600 passfile; the folders never made or followed through a link
someone else planted (the fallback of an unreachable checkout is a fresh mkdtemp folder).

"Another OS user" is `nobody` (setpriv), as in the finding this answers: before, `psql -h 127.0.0.1
-U postgres` as nobody gave a superuser, and a folder nobody made under /var/tmp with a link
`run -> <a root-owned folder>` had root chown that folder to postgres.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from dev import pgcluster
from tests.dbutil import LOGIN_ROLES, as_user, login_url, url_for

ROOT = Path(__file__).resolve().parent.parent
TOOL = [sys.executable, str(ROOT / "dev" / "pgcluster.py")]

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (another OS user, the postgres OS user)")


def ours(url: str) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("an existing server: its authentication is its operator's")
    assert conninfo_to_dict(url).get("passfile"), url


def cluster_dir(url: str) -> Path:
    return Path(conninfo_to_dict(url)["passfile"]).parent


def as_nobody(*cmd: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd], cwd="/",
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30, check=False)


def nobody_psql(*conn: str) -> subprocess.CompletedProcess:
    return as_nobody(os.path.join(pgcluster.bindir(), "psql"), "-X", "-w", *conn, "-tAc", "select current_user")


def hba_methods(data: Path) -> list[str]:
    lines = [ln.split() for ln in (data / "pg_hba.conf").read_text(encoding="utf-8").splitlines()]
    return [ln[4] if ln[0] != "local" else ln[3] for ln in lines if ln and not ln[0].startswith("#")]


@as_root
def test_another_os_user_cannot_connect_to_a_cluster_the_tool_started(pg_server_url):
    ours(pg_server_url)
    d = cluster_dir(pg_server_url)
    port = str(conninfo_to_dict(pg_server_url)["port"])
    # TCP as the superuser, and as a login, without a password: refused (scram-sha-256, no trust).
    for user in ("postgres", "ssr_app"):
        got = nobody_psql("-h", "127.0.0.1", "-p", port, "-U", user, "-d", "postgres")
        assert got.returncode != 0 and "no password supplied" in got.stderr, got
    # With a wrong password: refused.
    got = as_nobody(os.path.join(pgcluster.bindir(), "psql"), "-X", "-w", "-h", "127.0.0.1", "-p", port, "-U",
                    "postgres", "-d", "postgres", "-c", "select 1", env={"PGPASSWORD": "guess"})
    assert got.returncode != 0 and "password authentication failed" in got.stderr, got
    # The socket: its folder is closed to nobody.
    got = nobody_psql("-h", str(d / "run"), "-p", port, "-U", "postgres", "-d", "postgres")
    assert got.returncode != 0 and "Permission denied" in got.stderr, got
    # The URL the tool printed, passfile included: nobody cannot read the passfile.
    got = nobody_psql("-d", pg_server_url)
    assert got.returncode != 0, got
    assert as_nobody("cat", str(d / "passfile")).returncode != 0


@as_root
def test_the_rightful_user_connects_with_the_passfile_and_the_files_are_private(pg_server_url, db_url):
    ours(pg_server_url)
    d = cluster_dir(pg_server_url)
    passfile = d / "passfile"
    st = passfile.lstat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid()
    postgres = pwd.getpwnam("postgres").pw_uid
    for folder in (d, d / "run", d / "data"):
        fst = folder.lstat()
        assert stat.S_ISDIR(fst.st_mode) and stat.S_IMODE(fst.st_mode) == 0o700 and fst.st_uid == postgres, folder
    with psycopg.connect(pg_server_url) as c:
        assert c.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() \
            == ("postgres", True)
    with psycopg.connect(as_user(db_url)) as c:
        assert c.execute("SELECT current_user").fetchone() == ("ssr_app",)
    # The socket: peer, mapped: root may be the superuser there, not a login (it has no password there).
    port = str(conninfo_to_dict(pg_server_url)["port"])
    psql = [os.path.join(pgcluster.bindir(), "psql"), "-X", "-w", "-h", str(d / "run"), "-p", port, "-d", "postgres"]
    ok = subprocess.run([*psql, "-U", "postgres", "-tAc", "select current_user"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "postgres", ok.stderr
    no = subprocess.run([*psql, "-U", "ssr_app", "-tAc", "select 1"], capture_output=True, text=True)
    assert no.returncode != 0 and "Peer authentication failed" in no.stderr
    # No trust line at all; the passwords are stored as SCRAM verifiers.
    assert set(hba_methods(d / "data")) == {"peer", "scram-sha-256"}
    with psycopg.connect(pg_server_url) as c:
        stored = dict(c.execute("SELECT rolname, rolpassword FROM pg_authid WHERE rolcanlogin").fetchall())
    assert stored["postgres"].startswith("SCRAM-SHA-256$")
    # The printed URL never carries a password.
    assert "password" not in conninfo_to_dict(pg_server_url)


@pytest.mark.parametrize("role", LOGIN_ROLES)
def test_each_login_connects_with_its_password(role, db_url, pg_server_url):
    ours(pg_server_url)
    with psycopg.connect(login_url(db_url, role)) as c:
        assert c.execute("SELECT current_user").fetchone() == (role,)
    assert role in pgcluster.read_passfile(str(cluster_dir(pg_server_url) / "passfile"))


def test_login_url_keeps_the_query_and_swaps_only_the_user():
    owner = "postgresql://postgres@127.0.0.1:5001,127.0.0.1:5002/ssr?target_session_attrs=read-write&passfile=/x/passfile"
    assert pgcluster.login_url(owner, "ssr_worker") == (
        "postgresql://ssr_worker@127.0.0.1:5001,127.0.0.1:5002/ssr?target_session_attrs=read-write&passfile=/x/passfile")
    assert pgcluster.app_url(owner) == pgcluster.login_url(owner, "ssr_app")
    cli = subprocess.run([*TOOL, "login-url", owner, "--role", "ssr_bi"], capture_output=True, text=True, check=True)
    assert cli.stdout.strip() == pgcluster.login_url(owner, "ssr_bi")


def test_the_scram_verifier_is_what_postgres_accepts(db_url):
    role = "ssr_test_scram_" + os.urandom(4).hex()
    with psycopg.connect(db_url, autocommit=True) as c:
        c.execute(f"CREATE ROLE {role} NOLOGIN")
        try:
            c.execute(pgcluster.login_sql(role, "s3cret:with\\odd").encode())
            with psycopg.connect(as_user(db_url, role, "s3cret:with\\odd")) as r:
                assert r.execute("SELECT current_user").fetchone() == (role,)
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(as_user(db_url, role, "wrong")).close()
        finally:
            c.execute(f"DROP ROLE {role}")


# --- folders: nothing made, chowned or chmodded through something another user planted ---------------


@pytest.fixture
def victim():
    """A root-owned folder that must stay root's (0700, unchanged)."""
    v = Path(tempfile.mkdtemp(prefix="ssr-victim-"))
    yield v
    shutil.rmtree(v)


def untouched(v: Path) -> None:
    st = v.lstat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o700), "the root-owned folder was changed"


def start(d: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*TOOL, "start", str(d), "--db", "postgres"], capture_output=True, text=True, timeout=120)


def planted(path: Path, target: Path | None = None) -> Path:
    """What `nobody` makes: a folder, or a link to target, owned by nobody."""
    nobody = pwd.getpwnam("nobody")
    if target is None:
        path.mkdir(mode=0o755)
    else:
        path.symlink_to(target)
    os.lchown(path, nobody.pw_uid, nobody.pw_gid)
    return path


@pytest.fixture
def checkout():
    """root's checkout where the postgres OS user cannot go (a 0700 folder of root's)."""
    private = Path(tempfile.mkdtemp(prefix="ssr-private-"))
    (private / "project").mkdir()
    yield private / "project"
    subprocess.run([*TOOL, "destroy", str(private / "project" / ".pg")], capture_output=True, check=False)
    shutil.rmtree(private)


@as_root
def test_the_fallback_is_a_fresh_folder_not_the_predictable_one_another_user_made(checkout, victim):
    d = checkout / ".pg"
    # What an older version used, pre-made by nobody with a link to a root-owned folder inside.
    old = Path("/var/tmp") / ("ssr-pg-" + hashlib.sha256(str(d).encode()).hexdigest()[:12])  # noqa: S108
    shutil.rmtree(old, ignore_errors=True)
    planted(old)
    planted(old / "run", victim)
    try:
        done = start(d)
        assert done.returncode == 0, done.stderr
        target = Path(os.readlink(d))
        assert target != old and target.parent == Path("/var/tmp") and target.name.startswith("ssr-pg-")  # noqa: S108
        st = target.lstat()
        assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == pwd.getpwnam("postgres").pw_uid
        untouched(victim)
        assert (old / "run").is_symlink() and old.lstat().st_uid == pwd.getpwnam("nobody").pw_uid
        assert start(d).stdout == done.stdout  # a restart finds it through the link
    finally:
        shutil.rmtree(old, ignore_errors=True)


@as_root
def test_a_link_to_a_folder_another_user_made_is_refused(checkout, victim):
    # As an older version left it: .pg -> the predictable folder, which nobody had made first.
    other = planted(Path(tempfile.mkdtemp(prefix="ssr-pg-planted-", dir="/var/tmp")) / "f")
    planted(other / "run", victim)
    (checkout / ".pg").symlink_to(other)
    try:
        done = start(checkout / ".pg")
        assert done.returncode != 0 and "belongs to nobody" in done.stderr and "refused" in done.stderr, done.stderr
        untouched(victim)
        assert other.lstat().st_uid == pwd.getpwnam("nobody").pw_uid
    finally:
        shutil.rmtree(other.parent)


@as_root
def test_a_link_planted_inside_a_cluster_folder_is_never_followed(checkout, victim):
    # The folder passes (postgres's, 0700: an older version chowned what nobody had made), but it holds
    # nobody's link run -> a root-owned folder.
    folder = Path(tempfile.mkdtemp(prefix="ssr-pg-", dir="/var/tmp"))
    pw = pwd.getpwnam("postgres")
    os.chown(folder, pw.pw_uid, pw.pw_gid)
    planted(folder / "run", victim)
    (checkout / ".pg").symlink_to(folder)
    try:
        done = start(checkout / ".pg")
        assert done.returncode != 0 and "is a link" in done.stderr and "refused" in done.stderr, done.stderr
        untouched(victim)
    finally:
        shutil.rmtree(folder)


@as_root
def test_a_cluster_folder_or_link_another_user_made_in_a_shared_folder_is_refused(victim):
    shared = Path(tempfile.mkdtemp(prefix="ssr-shared-"))
    os.chmod(shared, 0o1777)  # noqa: S103 - like /tmp: anyone may create there
    try:
        planted(shared / "pg")
        done = start(shared / "pg")
        assert done.returncode != 0 and "belongs to nobody" in done.stderr, done.stderr
        planted(shared / "pg2", victim)
        done = start(shared / "pg2")
        assert done.returncode != 0 and "made by nobody" in done.stderr, done.stderr
        untouched(victim)
        assert not (shared / "pg" / "data").exists()
    finally:
        shutil.rmtree(shared)


@as_root
def test_a_cluster_made_with_trust_by_an_older_version_is_converted_on_start():
    base = Path(tempfile.mkdtemp(prefix="ssr-pgcluster-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres OS user must reach it
    d = base / "pg"
    try:
        url = start(d).stdout.strip()
        subprocess.run([*TOOL, "stop", str(d)], check=True)
        # What an older version left: trust everywhere, no passfile, folders 0755.
        (d / "data" / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (d / "passfile").unlink()
        os.chmod(d / "run", 0o755)  # noqa: S103
        os.chmod(d, 0o755)  # noqa: S103
        done = start(d)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == url
        assert "trust" not in hba_methods(d / "data")
        assert stat.S_IMODE((d / "run").lstat().st_mode) == 0o700 and stat.S_IMODE(d.lstat().st_mode) == 0o700
        port = str(conninfo_to_dict(url)["port"])
        got = nobody_psql("-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres")
        assert got.returncode != 0 and "no password supplied" in got.stderr, got
        with psycopg.connect(url_for(url, "postgres")) as c:  # the new passfile's password
            assert c.execute("SELECT current_user").fetchone() == ("postgres",)
    finally:
        subprocess.run([*TOOL, "destroy", str(d)], check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_make_run_gives_the_app_the_payments_pool_and_the_worker_their_own_logins(db_url, monkeypatch):
    """dev/run.py on the embedded cluster: each process its login (LOGIN and the passfile's password
    given through the superuser's URL), not the superuser."""
    ours(db_url)
    from dev import run

    for var in ("APP_DATABASE_URL", *run.LOGINS):
        monkeypatch.delenv(var, raising=False)
    env, app_url = run.serve_env(db_url, "127.0.0.1", 8000, embedded=True)
    urls = {"ssr_app": app_url, **{role: env.get(var) for var, role in run.LOGINS.items() if var != "APP_DATABASE_URL"}}
    for role, url in urls.items():
        assert conninfo_to_dict(url)["passfile"] == conninfo_to_dict(db_url)["passfile"]
        with psycopg.connect(url) as c:
            assert c.execute("SELECT current_user").fetchone() == (role,)
