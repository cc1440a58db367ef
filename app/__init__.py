"""Smart Session Routing: the thin Flask app (HTTP in, one stored procedure, HTTP out)."""

from __future__ import annotations

import os

from flask import Flask, jsonify


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DATABASE_URL=os.environ.get("DATABASE_URL"))
    if config:
        app.config.update(config)

    @app.get("/healthz")
    def healthz():
        return jsonify(ok=True)

    return app
