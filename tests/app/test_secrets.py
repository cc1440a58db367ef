"""The secrets are checked at start: outside demo mode the app refuses a short or public
JWT_SECRET, a webhook secret that is not whsec_... or is make run's public one, and a missing
SECRET_KEY (the cookie's key is never derived from JWT_SECRET then); `make run` (dev/run.py)
with real Stripe keys never falls back to a demo secret. No database is needed: create_app
connects lazily."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import ConfigError, create_app, security
from dev import run
from tests.app.conftest import JWT_SECRET, SECRET_KEY, WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",  # never connected to here
    "STRIPE_SECRET_KEY": "sk_test_fake_" + "x" * 24,
    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "JWT_SECRET": JWT_SECRET,
    "SECRET_KEY": SECRET_KEY,
    "PUBLIC_BASE_URL": "https://ssr.example",
}


def test_strong_secrets_start():
    app = create_app(dict(GOOD))
    assert app.config["SECRET_KEY"] == SECRET_KEY  # the one given, nothing derived


@pytest.mark.parametrize(("changes", "named"), [
    ({"JWT_SECRET": "a"}, "JWT_SECRET"),
    ({"JWT_SECRET": "x" * 31}, "JWT_SECRET"),
    ({"JWT_SECRET": run.DEMO_JWT_SECRET}, "JWT_SECRET"),
    ({"STRIPE_WEBHOOK_SECRET": "not-a-webhook-secret-" + "w" * 32}, "STRIPE_WEBHOOK_SECRET"),
    ({"STRIPE_WEBHOOK_SECRET": "whsec_"}, "STRIPE_WEBHOOK_SECRET"),
    ({"STRIPE_WEBHOOK_SECRET": run.DEMO_WEBHOOK_SECRET}, "STRIPE_WEBHOOK_SECRET"),
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SECRET_KEY": JWT_SECRET}, "SECRET_KEY"),
    # The finding's own case: a one-letter JWT secret beside a live Stripe key.
    ({"JWT_SECRET": "a", "STRIPE_SECRET_KEY": "sk_live_" + "y" * 24}, "JWT_SECRET"),
])
def test_weak_or_public_secrets_are_refused_naming_the_variable(monkeypatch, changes, named):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match=f"refusing to start: .*{named}"):
        create_app({**GOOD, **changes})


def test_demo_mode_accepts_the_demo_secrets_and_derives_the_cookie_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    demo = {**GOOD, "JWT_SECRET": run.DEMO_JWT_SECRET, "STRIPE_WEBHOOK_SECRET": run.DEMO_WEBHOOK_SECRET,
            "SECRET_KEY": None, "DEMO_SIGN_IN": True}
    app = create_app(demo)
    assert app.config["SECRET_KEY"] and app.config["SECRET_KEY"] != run.DEMO_JWT_SECRET
    with pytest.raises(ConfigError, match="JWT_SECRET"):  # still at least 32 bytes
        create_app({**demo, "JWT_SECRET": "a"})


def test_the_demo_values_are_the_ones_make_run_uses():
    assert (security.DEMO_JWT_SECRET, security.DEMO_WEBHOOK_SECRET) == (run.DEMO_JWT_SECRET, run.DEMO_WEBHOOK_SECRET)


def test_the_wsgi_module_refuses_a_weak_jwt_secret_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in GOOD}
    env.update(GOOD, JWT_SECRET="a")
    done = subprocess.run([sys.executable, "-c", "import app.wsgi"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "JWT_SECRET must be at least 32 bytes" in done.stderr, done.stderr[-500:]
    env.update(JWT_SECRET=JWT_SECRET)
    env.pop("SECRET_KEY")
    done = subprocess.run([sys.executable, "-c", "import app.wsgi"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "SECRET_KEY is not set" in done.stderr, done.stderr[-500:]


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (*GOOD, "STRIPE_API_BASE", "DEMO_SIGN_IN")}
    env.update(extra)
    return env


def test_make_run_with_real_stripe_keys_refuses_without_every_secret():
    """Nothing is started (the database URL leads nowhere): a refusal naming what is missing."""
    env = clean_env(STRIPE_SECRET_KEY="sk_test_real_" + "r" * 24, DATABASE_URL=GOOD["DATABASE_URL"],
                    JWT_SECRET=JWT_SECRET)
    done = subprocess.run([sys.executable, "dev/run.py", "serve"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-800:]
    assert "refusing to start" in done.stderr
    assert "STRIPE_WEBHOOK_SECRET" in done.stderr and "SECRET_KEY" in done.stderr
    assert "set JWT_SECRET" not in done.stderr


def test_make_run_defaults(monkeypatch):
    """The fake and no JWT_SECRET: demo mode with the demo secrets. A JWT_SECRET of one's own and
    the fake: random webhook and cookie secrets, never the public ones. Real keys: only what is given."""
    for k in (*GOOD, "STRIPE_API_BASE", "DEMO_SIGN_IN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("APP_DATABASE_URL", GOOD["DATABASE_URL"])
    env, _ = run.serve_env(GOOD["DATABASE_URL"], "127.0.0.1", 8000, embedded=False)
    assert env["DEMO_SIGN_IN"] == "1" and env["JWT_SECRET"] == run.DEMO_JWT_SECRET
    assert env["STRIPE_WEBHOOK_SECRET"] == run.DEMO_WEBHOOK_SECRET
    assert security.check_secrets(env) == []

    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    env, _ = run.serve_env(GOOD["DATABASE_URL"], "127.0.0.1", 8000, embedded=False)
    assert "DEMO_SIGN_IN" not in env
    assert env["STRIPE_WEBHOOK_SECRET"].startswith("whsec_") and env["STRIPE_WEBHOOK_SECRET"] != run.DEMO_WEBHOOK_SECRET
    assert len(env["SECRET_KEY"]) >= 32
    assert security.check_secrets(env) == []

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_real_" + "r" * 24)
    with pytest.raises(SystemExit, match="STRIPE_WEBHOOK_SECRET, SECRET_KEY"):
        run.serve_env(GOOD["DATABASE_URL"], "127.0.0.1", 8000, embedded=False)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("SECRET_KEY", SECRET_KEY)
    env, _ = run.serve_env(GOOD["DATABASE_URL"], "127.0.0.1", 8000, embedded=False)
    assert (env["STRIPE_WEBHOOK_SECRET"], env["SECRET_KEY"]) == (WEBHOOK_SECRET, SECRET_KEY)
