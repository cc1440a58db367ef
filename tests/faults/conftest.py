"""Fixtures of the fault suite: a durable cluster of its own (the throwaway test cluster has
durability off, so it cannot say anything about crashes), the app under gunicorn with
JSON logs, and the Stripe fake. Each case reports its figures with the `figures` fixture
(tests/conftest.py), printed at the end of the run."""

from __future__ import annotations

import os

import pytest

from dev.stripe_fake import StripeFake
from tests.app.conftest import JWT_SECRET, SECRET_KEY, WEBHOOK_SECRET
from tests.faults.harness import DurableCluster, Gunicorn
from tools.migrate import migrate


@pytest.fixture(scope="session")
def durable_cluster():
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the fault suite crashes its own cluster; it does not run against DATABASE_URL")
    cluster = DurableCluster()
    try:
        cluster.start()
        migrate(cluster.url)
        import psycopg

        from tests.conftest import ROOT

        with psycopg.connect(cluster.url, autocommit=True) as c:
            for f in sorted((ROOT / "db" / "seeds").glob("*.sql")):
                c.execute(f.read_text(encoding="utf-8").encode())
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def fault_stripe():
    fake = StripeFake().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def app_env(durable_cluster, fault_stripe):
    return {
        "DATABASE_URL": durable_cluster.url,
        "STRIPE_SECRET_KEY": "sk_test_fake_" + "x" * 24,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fault_stripe.url,
        "JWT_SECRET": JWT_SECRET,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "https://ssr.example",
        "LOG_FORMAT": "json",
        # Hundreds of checkouts by one customer from one address: load, not abuse. The limits are
        # tested in tests/app/test_rate_limits.py; here they would only refuse the load.
        **{f"RATE_LIMIT_{kind}_PER_{scope}": "off" for kind in ("SIGN_IN", "CHECKOUT", "LOOKUP")
           for scope in ("ADDRESS", "IDENTITY")},
    }


@pytest.fixture(scope="session")
def server(app_env):
    """The app served as `make run` serves it (gunicorn.conf.py, 4 workers), JSON logs to a file."""
    g = Gunicorn(app_env, workers=4)
    yield g
    g.stop()
