"""The JSON API (/api/..., /healthz): one module per resource, each a blueprint with its url_prefix.
An endpoint is thin: HTTP in (app.inputs), one stored-procedure call (app.db.call), HTTP out."""

from __future__ import annotations


def blueprints() -> tuple:
    from app.api import checkout, directory, mechanic, meta, ranking, session_requests, sessions, stripe_webhook

    return (meta.bp, meta.api, directory.bp, checkout.bp, mechanic.bp, session_requests.bp, sessions.bp,
            stripe_webhook.bp, ranking.bp)
