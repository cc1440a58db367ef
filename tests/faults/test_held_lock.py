"""A table held with an ACCESS EXCLUSIVE lock for 40 s (a migration, a careless operator): the app
answers 503 with Retry-After within its lock_timeout, /healthz within a second, and serves again
as soon as the lock goes. Also statement_timeout (57014) and an exhausted pool: 503 as well."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from app import create_app
from app.db import close_pools
from tests.app.conftest import ANA, CheckedClient, auth
from tests.faults.harness import request

HOLD_SECONDS = 40
TABLES = "workshop_stats, stripe_events, session_requests"


class HeldLock:
    """ACCESS EXCLUSIVE on TABLES from a background connection, for HOLD_SECONDS or until release()."""

    def __init__(self, url: str):
        self.url = url
        self.locked = threading.Event()
        self.released = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        with psycopg.connect(self.url, application_name="ssr-test-lock-holder") as c:
            c.execute(f"LOCK TABLE {TABLES} IN ACCESS EXCLUSIVE MODE")
            self.locked.set()
            self.released.wait(HOLD_SECONDS)
            c.rollback()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(30), "could not take the lock"
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.thread.join(30)


def timed(method: str, url: str, **kw):
    t0 = time.monotonic()
    status, headers, body = request(method, url, timeout=60, **kw)
    return status, headers, body, time.monotonic() - t0


def test_a_table_locked_for_40_seconds(durable_cluster, server, figures):
    base = server.base
    offers = f"{base}/api/mechanic/requests"
    mech = auth(ANA, "mechanic")
    t_start = time.monotonic()
    with HeldLock(durable_cluster.url):
        with ThreadPoolExecutor(3) as pool:  # three workers wait on the lock at once
            waits = [pool.submit(timed, "GET", base + "/api/workshops/directory"),
                     pool.submit(timed, "GET", offers, headers=mech),
                     pool.submit(timed, "POST", f"{base}/api/session-requests/00000000-0000-4000-8000-000000000000/accept",
                                 headers=mech)]
            health = [timed("GET", base + "/healthz") for _ in range(4)]  # meanwhile, on the fourth worker
            directory, offered, accept = (w.result() for w in waits)
        held_for = time.monotonic() - t_start
    after = timed("GET", base + "/api/workshops/directory")
    total = time.monotonic() - t_start

    for status, _, body, seconds in health:
        assert status == 200 and body == {"ok": True, "database": "ok"}
        assert seconds < 1.0
    for status, headers, body, seconds in (directory, offered, accept):
        assert status == 503, body
        assert body["error"]["code"] == "database_busy"
        assert int(headers["Retry-After"]) > 0
        assert seconds < 10, "well within gunicorn's worker timeout"
    assert after[0] == 200
    # Each error has its log line (JSON: LOG_FORMAT=json), with its code and SQLSTATE.
    busy = [r for r in server.json_log() if r.get("error_code") == "database_busy"]
    assert len(busy) >= 3 and {r["level"] for r in busy} == {"WARNING"} and {r["sqlstate"] for r in busy} == {"55P03"}
    assert held_for < HOLD_SECONDS and total < HOLD_SECONDS  # answered and released long before the 40 s
    figures(lock=f"ACCESS EXCLUSIVE on {TABLES}, held up to {HOLD_SECONDS} s",
            healthz_max_s=round(max(h[3] for h in health), 3),
            directory_503_s=round(directory[3], 2), offers_503_s=round(offered[3], 2), accept_503_s=round(accept[3], 2),
            served_again_s=round(after[3], 3), test_wall_s=round(total, 1))


def test_statement_timeout_and_pool_timeout_are_503(durable_cluster, fault_stripe, app_env):
    # statement_timeout (57014) shorter than the lock wait: the statement is cancelled, 503.
    app = create_app({**app_env, "LOCK_TIMEOUT_MS": 30000, "STATEMENT_TIMEOUT_MS": 300, "POOL_TIMEOUT": 0.5,
                      "POOL_MAX_SIZE": 1})
    try:
        client = CheckedClient(app)
        with HeldLock(durable_cluster.url):
            t0 = time.monotonic()
            r = client.get("/api/workshops/directory")
            assert r.status_code == 503 and r.get_json()["error"]["code"] == "database_busy"
            assert r.headers["Retry-After"] and time.monotonic() - t0 < 5
        # The only pooled connection is taken: PoolTimeout, 503.
        with app.extensions["db_pool"].connection():
            r = client.get("/api/workshops/directory")
            assert r.status_code == 503 and r.get_json()["error"]["code"] == "database_unavailable"
            assert r.headers["Retry-After"]
            assert client.get("/healthz").status_code == 503
        assert client.get("/api/workshops/directory").status_code == 200
    finally:
        close_pools(app)
