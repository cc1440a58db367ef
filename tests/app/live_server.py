"""The app under gunicorn as `make run` serves it (gunicorn.conf.py: gthread workers), with the
Stripe fake playing the hosted Checkout page, for the tests that need real connections; with
`relay_url` (the owner's database URL) the real worker beside it, relaying the routing
notifications the live pages listen for, as `make run` starts it."""

from __future__ import annotations

import contextlib
import os
import subprocess

from dev.stripe_fake import StripeFake
from tests.app.conftest import WEBHOOK_SECRET
from tests.app.test_app_server import GUNICORN, ROOT, free_port, wait_until_up
from tests.workerutil import relay_worker


@contextlib.contextmanager
def serve(app_config: dict, workers: int = 2, relay_url: str | None = None, **env_extra):
    """Yield (base URL, fake, gunicorn's process); stops them (and the worker, with relay_url).
    Extra keyword arguments go to the environment."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake = StripeFake()
    fake.demo_webhook = (base + "/api/stripe/webhook", WEBHOOK_SECRET)
    fake.start()
    env = dict(os.environ, **{k: str(v) for k, v in app_config.items()})
    env.update(STRIPE_API_BASE=fake.url, PUBLIC_BASE_URL=base, GUNICORN_THREADS="16",
               **{k: str(v) for k, v in env_extra.items()})
    proc = subprocess.Popen(
        [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "app.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    relay = relay_worker(relay_url) if relay_url else None
    try:
        wait_until_up(base, proc)
        yield base, fake, proc
    finally:
        if relay is not None:
            relay.stop()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        proc.stderr.close()
        fake.stop()
