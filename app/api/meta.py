"""The health check (/healthz) and the OpenAPI document (/api/openapi.json, app/openapi.json)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify

from app import db

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"  # app/openapi.json

bp = Blueprint("meta", __name__)
api = Blueprint("openapi", __name__, url_prefix="/api")


@api.get("/openapi.json")
def openapi():
    return Response(OPENAPI_PATH.read_bytes(), mimetype="application/json")


@bp.get("/healthz")
def healthz():
    """Ready when the database answers `SELECT 1` within HEALTHZ_TIMEOUT (0.5 s): it waits at most that
    long for a pooled connection and runs under a statement_timeout as long, touching no table, so it
    answers within a second even while a table is locked; 503 with Retry-After otherwise."""
    db.ping(current_app.config["HEALTHZ_TIMEOUT"])
    return jsonify(ok=True, database="ok")
