"""Smart Session Routing: the thin Flask app (HTTP in, one stored procedure, HTTP out).

Configuration comes from the environment (or the `config` mapping of create_app):
DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, JWT_SECRET, PUBLIC_BASE_URL
(all required) and STRIPE_API_BASE (optional, e.g. a local fake of the Stripe API).
The app refuses to start when one is missing; it applies no silent defaults.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, jsonify

REQUIRED = ("DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_SECRET", "PUBLIC_BASE_URL")
OPTIONAL = ("STRIPE_API_BASE",)


class ConfigError(RuntimeError):
    pass


class LazyPool:
    """A psycopg_pool.ConnectionPool opened on first use, so a pre-forking server
    (gunicorn) opens one per worker process and importing the app touches no database."""

    def __init__(self, conninfo: str, min_size: int, max_size: int, timeout: float):
        self._args = (conninfo, min_size, max_size, timeout)
        self._pool = None
        self._lock = threading.Lock()

    def get(self):
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg_pool import ConnectionPool

                    conninfo, min_size, max_size, timeout = self._args
                    self._pool = ConnectionPool(
                        conninfo,
                        min_size=min_size,
                        max_size=max_size,
                        timeout=timeout,
                        kwargs={"autocommit": True, "application_name": "ssr-app"},
                        check=ConnectionPool.check_connection,  # drop connections broken by a restart
                        open=True,
                        name="ssr-app",
                    )
        return self._pool

    def connection(self):
        return self.get().connection()

    def close(self):
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    settings = {k: os.environ.get(k) or None for k in REQUIRED + OPTIONAL}
    settings.update(
        POOL_MIN_SIZE=int(os.environ.get("POOL_MIN_SIZE", "1")),
        POOL_MAX_SIZE=int(os.environ.get("POOL_MAX_SIZE", "10")),
        POOL_TIMEOUT=float(os.environ.get("POOL_TIMEOUT", "10")),
    )
    settings.update(config or {})
    missing = [k for k in REQUIRED if not settings.get(k)]
    if missing:
        raise ConfigError(
            "refusing to start: set " + ", ".join(missing)
            + (" (webhooks cannot be verified without STRIPE_WEBHOOK_SECRET)" if "STRIPE_WEBHOOK_SECRET" in missing else "")
        )
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings.get("MAX_CONTENT_LENGTH") or 512 * 1024  # events are a few KB
    app.config["STRIPE_LIVEMODE"] = settings["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))

    from stripe import StripeClient

    base = {"api": settings["STRIPE_API_BASE"]} if settings.get("STRIPE_API_BASE") else None
    app.extensions["stripe"] = StripeClient(settings["STRIPE_SECRET_KEY"], base_addresses=base, max_network_retries=2)
    app.extensions["db_pool"] = LazyPool(
        settings["DATABASE_URL"], settings["POOL_MIN_SIZE"], settings["POOL_MAX_SIZE"], settings["POOL_TIMEOUT"]
    )

    from app import errors, routes

    errors.register(app)
    app.register_blueprint(routes.bp)

    @app.get("/healthz")
    def healthz():
        return jsonify(ok=True)

    return app
