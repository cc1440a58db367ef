"""Smart Session Routing: the thin Flask app (HTTP in, one stored procedure, HTTP out).

Configuration comes from the environment (or the `config` mapping of create_app):
DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, JWT_SECRET, PUBLIC_BASE_URL
(all required), SECRET_KEY (required outside demo mode: it signs the session cookie and the
CSRF tokens), STRIPE_API_BASE (optional, e.g. a local fake of the Stripe API),
PAYMENTS_DATABASE_URL (optional: the payments login ssr_payments for the webhook and the success
page's fulfillment; unset: DATABASE_URL), DATABASE_READ_URL (optional: reads that may lag,
e.g. a standby; unset: DATABASE_URL), JWT_ISSUER / JWT_AUDIENCE (optional: then required in
every token) and JWT_MAX_LIFETIME_S.
The app refuses to start when one is missing or a secret is weak or public (app/security.py
check_secrets: each problem names its variable); it applies no silent defaults.
"""

from __future__ import annotations

import os
from datetime import UTC
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Flask is imported by create_app: the worker imports app.logs and app.payments without it
    from flask import Flask

REQUIRED = ("DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_SECRET", "PUBLIC_BASE_URL")
OPTIONAL = ("STRIPE_API_BASE", "DATABASE_READ_URL", "PAYMENTS_DATABASE_URL", "SECRET_KEY", "JWT_ISSUER",
            "JWT_AUDIENCE")


class ConfigError(RuntimeError):
    pass


def create_app(config: dict | None = None) -> Flask:
    from flask import Flask

    app = Flask(__name__, static_folder=None)
    settings = {k: os.environ.get(k) or None for k in REQUIRED + OPTIONAL}
    settings.update(
        POOL_MIN_SIZE=int(os.environ.get("POOL_MIN_SIZE", "1")),
        POOL_MAX_SIZE=int(os.environ.get("POOL_MAX_SIZE", "10")),
        POOL_TIMEOUT=float(os.environ.get("POOL_TIMEOUT", "5")),
        LOCK_TIMEOUT_MS=int(os.environ.get("LOCK_TIMEOUT_MS", "2000")),
        STATEMENT_TIMEOUT_MS=int(os.environ.get("STATEMENT_TIMEOUT_MS", "5000")),
        IDLE_IN_TRANSACTION_TIMEOUT_MS=int(os.environ.get("IDLE_IN_TRANSACTION_TIMEOUT_MS", "10000")),
        HEALTHZ_TIMEOUT=float(os.environ.get("HEALTHZ_TIMEOUT", "0.5")),
        STRIPE_TIMEOUT=float(os.environ.get("STRIPE_TIMEOUT", "5")),
        POOL_RECONNECT_TIMEOUT=float(os.environ.get("POOL_RECONNECT_TIMEOUT", "5")),
        # A request body that stops arriving: 408 after this long without a byte (app/inputs.py).
        BODY_READ_TIMEOUT=float(os.environ.get("BODY_READ_TIMEOUT", "10")),
        # Live pages (app/live.py): streams per process (gunicorn.conf.py sets it from its threads).
        SSE_MAX_CLIENTS=int(os.environ.get("SSE_MAX_CLIENTS", "100")),
        SSE_HEARTBEAT_SECONDS=float(os.environ.get("SSE_HEARTBEAT_SECONDS", "15")),
        SSE_MAX_SECONDS=float(os.environ.get("SSE_MAX_SECONDS", "600")),
        # The longest a token may be valid (exp - iat), in seconds: longer ones are refused.
        JWT_MAX_LIFETIME_S=int(os.environ.get("JWT_MAX_LIFETIME_S", "86400")),
        # Demo only (make run): one-click sign-in as the seed's Alice and Ana.
        DEMO_SIGN_IN=os.environ.get("DEMO_SIGN_IN", "") == "1",
    )
    settings.update(config or {})
    missing = [k for k in REQUIRED if not settings.get(k)]
    if missing:
        raise ConfigError(
            "refusing to start: set " + ", ".join(missing)
            + (" (webhooks cannot be verified without STRIPE_WEBHOOK_SECRET)" if "STRIPE_WEBHOOK_SECRET" in missing else "")
        )
    from app.security import check_secrets

    weak = check_secrets(settings)
    if weak:
        raise ConfigError("refusing to start: " + "; ".join(weak))
    app.config.update(settings)
    if settings["DEMO_SIGN_IN"] and settings["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_")):
        raise ConfigError("refusing to start: DEMO_SIGN_IN is for the local demo, never with a live Stripe key")
    app.config["MAX_CONTENT_LENGTH"] = settings.get("MAX_CONTENT_LENGTH") or 512 * 1024  # events are a few KB

    from app import api, auth, db, errors, inputs, limits, live, pages, payments, security
    from app.jsonprovider import JSONProvider

    app.json = JSONProvider(app)
    # A day as the pages write it, in UTC whatever the connection's TimeZone ("27 Nov 2026").
    app.jinja_env.filters["utc_day"] = lambda ts: ts.astimezone(UTC).strftime("%d %b %Y")
    security.init_app(app)
    payments.init_app(app)
    db.init_app(app)
    limits.init_app(app)
    auth.init_app(app)
    live.init_app(app)
    errors.register(app)
    inputs.register(app)
    for bp in api.blueprints() + pages.blueprints():
        app.register_blueprint(bp)
    return app
