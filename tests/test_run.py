"""`make run` (dev/run.py serve) against a database of its own: migrated, the demo data loaded
(SEED=1), the worker as the owner, the local Stripe fake and the app under gunicorn as ssr_app;
all of it stops with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.app.test_app_server import free_port
from tests.dbutil import as_user
from tests.workerutil import wait_for

ROOT = Path(__file__).resolve().parent.parent


def get(url: str, token: str | None = None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 - the local server of the test
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


def workers_connected(conn) -> int:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ssr-worker' "
                        "AND datname = current_database()").fetchone()[0]


@pytest.mark.usefixtures("app_db_url")  # the server's role ssr_app with LOGIN (an embedded cluster's run does it)
def test_make_run_migrates_seeds_and_serves_with_the_worker_and_the_fake(empty_db_url):
    port, fake_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "JWT_SECRET", "PUBLIC_BASE_URL")}
    env.update(DATABASE_URL=empty_db_url, APP_DATABASE_URL=as_user(empty_db_url))
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "dev/run.py", "serve", "--port", str(port), "--workers", "1",
             "--stripe-fake-port", str(fake_port), "--seed"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_for(lambda: get(base + "/healthz")[0] == 200 or proc.poll() is not None, 120, "the app")
            finally:
                out.seek(0)
                log = out.read()
            assert proc.poll() is None, log
            assert "seed: demo data loaded" in log
            assert f"Stripe: local fake on http://127.0.0.1:{fake_port}" in log
            assert f"serving on {base}" in log and "/account/sign-in" in log
            token = log.split("demo customer token (Alice): ", 1)[1].split()[0]
            status, body = get(base + "/api/workshops/directory", token)
            assert status == 200 and json.loads(body)["workshops"], body  # the seed's workshops
            with psycopg.connect(empty_db_url, autocommit=True) as conn:
                wait_for(lambda: workers_connected(conn) > 0, 60, "the worker")
                # the fake answers as Stripe does without the key
                assert get(f"http://127.0.0.1:{fake_port}/v1/checkout/sessions/cs_none")[0] == 401
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=60) == 0
                wait_for(lambda: workers_connected(conn) == 0, 60, "the worker to stop")
            assert get(base + "/healthz")[0] is None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
