"""The app's blueprints, one per audience, each with its url_prefix."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.blueprints import checkout, directory, mechanic, meta, session_requests, sessions, stripe_webhook

    for module in (meta, directory, checkout, mechanic, session_requests, sessions, stripe_webhook):
        for bp in module.BLUEPRINTS:
            app.register_blueprint(bp)
