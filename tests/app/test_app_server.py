"""The app under a production WSGI server (gunicorn, as `make run` serves it), over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.app.conftest import deliver_http, event_payload

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout  # generous: other work may load the machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited: {proc.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as r:  # noqa: S310 - local test server
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise AssertionError("gunicorn did not come up")


def test_gunicorn_serves_the_app_and_verifies_webhooks(app_config, seeded_conn, stripe_fake):
    port = free_port()
    env = dict(os.environ, **{k: str(v) for k, v in app_config.items()})
    proc = subprocess.Popen(
        [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "app.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc)
        status, body = deliver_http(base, event_payload({"id": "pi_1", "object": "payment_intent"},
                                                        "payment_intent.created", "evt_http_1"))
        assert status == 200 and body["outcome"] == "ignored"
        status, body = deliver_http(base, b'{"id": "evt_http_2"}', secret="whsec_wrong_" + "w" * 32)
        assert status == 400 and body["error"]["code"] == "invalid_signature"
        rows = seeded_conn.execute("SELECT id FROM stripe_events ORDER BY id").fetchall()
        assert rows == [("evt_http_1",)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()


def test_wsgi_module_refuses_to_start_without_webhook_secret(app_config):
    env = {k: v for k, v in os.environ.items() if k not in app_config}
    env.update({k: str(v) for k, v in app_config.items() if k != "STRIPE_WEBHOOK_SECRET"})
    done = subprocess.run([sys.executable, "-c", "import app.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET" in done.stderr


def test_devtoken_mints_a_token_the_app_accepts(client, app_config):
    env = dict(os.environ, JWT_SECRET=app_config["JWT_SECRET"])
    out = subprocess.run(
        [sys.executable, "-m", "dev.devtoken", "22222222-2222-4222-8222-000000000004", "mechanic"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    resp = client.get("/api/mechanic/requests", headers={"Authorization": f"Bearer {out}"})
    assert resp.status_code == 200 and resp.get_json()["ok"] is True
