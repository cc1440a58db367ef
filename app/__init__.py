"""Smart Session Routing: the thin Flask app (HTTP in, one stored procedure, HTTP out).

Configuration comes from the environment (or the `config` mapping of create_app):
DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, JWT_SECRET, PUBLIC_BASE_URL
(all required), STRIPE_API_BASE (optional, e.g. a local fake of the Stripe API) and
DATABASE_READ_URL (optional: reads that may lag, e.g. a standby; unset: DATABASE_URL).
The app refuses to start when one is missing; it applies no silent defaults.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, jsonify

REQUIRED = ("DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_SECRET", "PUBLIC_BASE_URL")
OPTIONAL = ("STRIPE_API_BASE", "DATABASE_READ_URL")


class ConfigError(RuntimeError):
    pass


class LazyPool:
    """A psycopg_pool.ConnectionPool opened on first use, so a pre-forking server
    (gunicorn) opens one per worker process and importing the app touches no database.

    With a multi-host conninfo (target_session_attrs=read-write) a failover is survived:
    broken connections are dropped (checked before use, discarded when broken in use) and
    new ones go to the new primary. reconnect_timeout is short so that, after a failover,
    connecting again is driven by requests instead of an exponential backoff of minutes."""

    def __init__(self, conninfo: str, min_size: int, max_size: int, timeout: float,
                 reconnect_timeout: float = 5.0, name: str = "ssr-app"):
        self._args = (conninfo, min_size, max_size, timeout, reconnect_timeout, name)
        self._pool = None
        self._lock = threading.Lock()

    def get(self):
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg_pool import ConnectionPool

                    conninfo, min_size, max_size, timeout, reconnect_timeout, name = self._args
                    self._pool = ConnectionPool(
                        conninfo,
                        min_size=min_size,
                        max_size=max_size,
                        timeout=timeout,
                        reconnect_timeout=reconnect_timeout,
                        kwargs={"autocommit": True, "application_name": name},
                        check=ConnectionPool.check_connection,  # drop connections broken by a restart
                        open=True,
                        name=name,
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
        POOL_RECONNECT_TIMEOUT=float(os.environ.get("POOL_RECONNECT_TIMEOUT", "5")),
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
    pool_args = (settings["POOL_MIN_SIZE"], settings["POOL_MAX_SIZE"], settings["POOL_TIMEOUT"],
                 settings["POOL_RECONNECT_TIMEOUT"])
    # Everything that writes or decides: the primary (a multi-host URL with read-write).
    app.extensions["db_pool"] = LazyPool(settings["DATABASE_URL"], *pool_args)
    # Reads that may lag (the directory): a standby when DATABASE_READ_URL says so.
    read_url = settings.get("DATABASE_READ_URL")
    app.extensions["db_read_pool"] = (
        LazyPool(read_url, *pool_args, name="ssr-app-read")
        if read_url and read_url != settings["DATABASE_URL"] else app.extensions["db_pool"]
    )

    from app import errors, routes

    errors.register(app)
    app.register_blueprint(routes.bp)

    @app.get("/healthz")
    def healthz():
        return jsonify(ok=True)

    return app
