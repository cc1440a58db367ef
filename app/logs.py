"""Logging for the app (under gunicorn) and the worker: one line per event, on stderr.

    LOG_FORMAT=text (default)   2026-11-27 13:00:00,123 INFO app.webhook [1234] stripe event ...
    LOG_FORMAT=json             {"time": ..., "level": "INFO", "logger": ..., "pid": ..., "message": ...,
                                 plus the record's extra fields, e.g. event_id, event_type, outcome}
    LOG_LEVEL=INFO (default)
    STRIPE_LOG_LEVEL=WARNING (default): the `stripe` library's own logger. At INFO it writes two
                                lines per Stripe API call ("Request to Stripe api", "Stripe API
                                response"), which would double the log of every webhook (its one
                                line is the app's); its warnings and errors are kept.

JSON lines come from python-json-logger (the maintained JSON formatter for the standard
logging package). gunicorn's own loggers (gunicorn.error, gunicorn.access) get the same
handler through `gunicorn_logconfig()`, used by gunicorn.conf.py.

The access log never holds a Checkout Session id: it is the capability of the success page and
of GET /api/checkout/sessions/<cs_id>, so `session_id=...` and any `cs_...` in the request line,
path, query or referer are written as `[redacted]` (RedactCheckoutIds).
"""

from __future__ import annotations

import logging
import logging.config
import os
import re

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"}


CHECKOUT_ID = re.compile(r"(?<![A-Za-z0-9_])cs_[A-Za-z0-9_]+")
SESSION_ID_PARAM = re.compile(r"(?<![A-Za-z0-9_])(session_id=)[^&\s\"]*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return CHECKOUT_ID.sub(REDACTED, SESSION_ID_PARAM.sub(r"\g<1>" + REDACTED, text))


class RedactCheckoutIds(logging.Filter):
    """Checkout Session ids out of a record (gunicorn's access atoms, or a message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(redact(v) if isinstance(v, str) else v for v in args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def log_format() -> str:
    fmt = (os.environ.get("LOG_FORMAT") or "text").strip().lower()
    if fmt not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be text or json, not {fmt!r}")
    return fmt


def log_level() -> str:
    return (os.environ.get("LOG_LEVEL") or "INFO").strip().upper()


def stripe_log_level() -> str:
    return (os.environ.get("STRIPE_LOG_LEVEL") or "WARNING").strip().upper()


def formatter_config() -> dict:
    if log_format() == "json":
        return {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FIELDS, "rename_fields": JSON_RENAMES}
    return {"format": TEXT_FORMAT}


def dict_config(extra_loggers: dict | None = None) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter_config()},
        "filters": {"redact_checkout_ids": {"()": "app.logs.RedactCheckoutIds"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}},
        "root": {"level": log_level(), "handlers": ["stderr"]},
        "loggers": {"stripe": {"level": stripe_log_level()}, **(extra_loggers or {})},
    }


def configure() -> None:
    """Configure the process's logging (the worker, or the app outside gunicorn)."""
    logging.config.dictConfig(dict_config())


def gunicorn_logconfig() -> dict:
    """gunicorn's `logconfig_dict`: its error and access logs and the app's loggers share one handler."""
    return dict_config({
        "gunicorn.error": {"level": log_level(), "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False,
                            "filters": ["redact_checkout_ids"]},
    })
