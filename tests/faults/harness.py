"""The parts of the fault suite: a durable cluster that can crash, the app under gunicorn as
`make run` serves it, and senders that retry like Stripe (any non-2xx or connection error, with
backoff). Nothing is mocked: real Postgres, real gunicorn workers, the real `stripe` library
against the local Stripe fake, real signatures."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from dev.stripe_fake import sign
from tests.dbutil import url_for

ROOT = Path(__file__).resolve().parents[2]
PGCLUSTER = [sys.executable, str(ROOT / "dev" / "pgcluster.py")]
GUNICORN = Path(sys.executable).with_name("gunicorn")
LONG = os.environ.get("SSR_FAULTS_LONG") == "1"  # `make faults`: more deliveries, more rounds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll until predicate() is truthy (returns it) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class DurableCluster:
    """A cluster of its own, created as `make run` creates one (PostgreSQL's durability defaults)."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="ssr-faults-pg-")
        os.chmod(self.base, 0o755)  # noqa: S103 - the postgres OS user must reach it
        self.dir = os.path.join(self.base, "cluster")
        self.url = ""

    def start(self, db: str = "ssr") -> float:
        t0 = time.monotonic()
        self.url = subprocess.run([*PGCLUSTER, "start", self.dir, "--db", db], check=True, capture_output=True,
                                  text=True).stdout.strip()
        return time.monotonic() - t0

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: every server process exits at once, no checkpoint, as in a crash.
        pg_ctl is called directly (as the cluster's OS user), so the crash lands within milliseconds."""
        from dev import pgcluster

        _, data, _ = pgcluster.paths(self.dir)
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(pgcluster.as_owner([os.path.join(pgcluster.bindir(), "pg_ctl"), "stop", "-D", data,
                                               "-m", "immediate", "-w"]), check=False, capture_output=True)

    def destroy(self) -> None:
        self.crash()  # nothing to keep: skip the shutdown checkpoint
        subprocess.run([*PGCLUSTER, "destroy", self.dir], check=False, capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def settings(self) -> dict[str, str]:
        with psycopg.connect(self.url) as c:
            return dict(c.execute("SELECT name, setting FROM pg_settings WHERE name IN "
                                  "('fsync', 'synchronous_commit', 'full_page_writes')").fetchall())

    def db(self, name: str) -> str:
        return url_for(self.url, name)


class Gunicorn:
    """The app as `make run` serves it: gunicorn -c gunicorn.conf.py app.wsgi:app, logs to a file."""

    def __init__(self, env: dict[str, str], workers: int = 4):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="ssr-faults-gunicorn-", suffix=".log")[1])
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "app.wsgi:app"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self.healthy, 60, "gunicorn to serve /healthz")

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited: {self.log_path.read_text()[-3000:]}")
        status, _, _ = request("GET", self.base + "/healthz", timeout=2)
        return status == 200

    def worker_pids(self) -> set[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return {int(x) for x in out.stdout.split()}

    def log_lines(self) -> list[str]:
        self.log.flush()
        return self.log_path.read_text(errors="replace").splitlines()

    def json_log(self) -> list[dict]:
        out = []
        for line in self.log_lines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
        self.log_path.unlink(missing_ok=True)


def request(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 30):
    """One HTTP request on a fresh connection: (status, headers, parsed JSON or None);
    status is None on a connection error (refused, reset, closed without an answer)."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, "/" + path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return resp.status, dict(resp.getheaders()), parsed
    except (OSError, http.client.HTTPException):
        return None, {}, None
    finally:
        conn.close()


@dataclass
class Tally:
    """What the senders saw, for the figures."""

    attempts: int = 0
    ok: int = 0
    by_status: dict = field(default_factory=dict)
    connection_errors: int = 0
    retry_after_missing: int = 0  # a 503 without Retry-After
    spans: list = field(default_factory=list)  # (sent, answered, status) of each attempt, wall-clock seconds
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status, headers, sent: float | None = None, answered: float | None = None) -> None:
        with self.lock:
            self.attempts += 1
            if sent is not None:
                self.spans.append((sent, answered, status))
            if status is None:
                self.connection_errors += 1
                return
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if 200 <= status < 300:
                self.ok += 1
            if status == 503 and not headers.get("Retry-After"):
                self.retry_after_missing += 1


def with_retries(send, tally: Tally, deadline: float, done=lambda status: status is not None and 200 <= status < 300):
    """Call send() until done(status) (by default a 2xx), backing off like Stripe (compressed in time:
    0.05 s doubling to 1 s). Returns (status, body, seconds of the final answer), or fails at the deadline."""
    delay = 0.05
    while True:
        sent = time.time()
        status, headers, body = send()
        tally.add(status, headers, sent, time.time())
        if done(status):
            return status, body, time.time()
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer accepted before the deadline (last {status} {body})")
        time.sleep(delay)
        delay = min(1.0, delay * 2)


def in_flight_across(tally: Tally, t_crash: float, t_up: float) -> int:
    """Attempts sent before the database was back and answered after it went down: the outage
    happened while they were in flight (they failed, or waited in the pool and went through)."""
    return sum(1 for sent, answered, _ in tally.spans if sent < t_up and answered > t_crash)


def signed_delivery(base: str, payload: bytes, secret: str):
    """A Stripe delivery attempt: signed at the time of the attempt, as Stripe does."""
    return request("POST", base + "/api/stripe/webhook", payload,
                   {"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)})


def run_threads(n: int, target, timeout: float) -> None:
    errors: list[BaseException] = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"senders still running after {timeout:g} s"
    if errors:
        raise errors[0]


def create_paid_checkouts(base: str, fake, n: int, customer_token: str, threads: int = 8) -> list[tuple[str, str, bytes]]:
    """n checkouts made through the app (as customers do), paid on the Stripe fake; returns
    (checkout session id, event id, signed-to-be event payload) for each."""
    from tests.app.conftest import event_payload

    out: list[tuple[str, str, bytes]] = []
    lock = threading.Lock()
    per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    tally = Tally()

    def make_one():
        deadline = time.monotonic() + 60
        delay = 0.05
        while True:
            status, headers, _ = request("GET", base + "/api/checkout/create-session?plan=video15",
                                         headers={"Authorization": f"Bearer {customer_token}"})
            tally.add(status, headers)
            if status == 303:
                return headers["Location"].rsplit("/", 1)[1]
            assert time.monotonic() < deadline, f"checkout not created: {status}"
            time.sleep(delay)
            delay = min(1.0, delay * 2)

    def worker(i):
        for _ in range(per[i]):
            cs_id = make_one()
            session = fake.mark_paid(cs_id)
            event_id = "evt_fault_" + cs_id.removeprefix("cs_test_")
            with lock:
                out.append((cs_id, event_id, event_payload(session, event_id=event_id)))

    run_threads(threads, worker, 120)
    return out
