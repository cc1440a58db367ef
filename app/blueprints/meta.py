"""The OpenAPI document and the health check."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, jsonify

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"

bp = Blueprint("meta", __name__)
api = Blueprint("openapi", __name__, url_prefix="/api")
BLUEPRINTS = (bp, api)


@api.get("/openapi.json")
def openapi():
    return Response(OPENAPI_PATH.read_bytes(), mimetype="application/json")


@bp.get("/healthz")
def healthz():
    return jsonify(ok=True)


def openapi_document() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
