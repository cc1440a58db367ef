"""The app's blueprints, one per audience, each with its url_prefix."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app import web
    from app.blueprints import (
        account,
        checkout,
        checkout_sessions,
        directory,
        mechanic,
        mechanic_events,
        mechanic_pages,
        meta,
        session_requests,
        sessions,
        stripe_webhook,
        workshops,
    )

    for module in (meta, directory, checkout, mechanic, session_requests, sessions, stripe_webhook,
                   web, account, workshops, checkout_sessions, mechanic_pages, mechanic_events):
        for bp in module.BLUEPRINTS:
            app.register_blueprint(bp)
