"""Flask's JSON provider for what the database returns: timestamps, UUIDs, numerics."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 timestamps (not Flask's HTTP dates), UUIDs as strings, numerics as numbers."""

    @staticmethod
    def default(o):
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        if isinstance(o, Decimal):
            return float(o)
        if isinstance(o, uuid.UUID):
            return str(o)
        return DefaultJSONProvider.default(o)
