"""What the HTML pages share: content negotiation, HTML error pages, the static assets and the
routing strategies as the pages name them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_from_directory, url_for

from app.errors import ApiError, error_response

STATIC = Path(__file__).resolve().parent.parent / "static"  # app/static
assets = Blueprint("assets", __name__, url_prefix="/static")


@assets.get("/<filename>")
def static(filename: str):
    """The pages' CSS and JavaScript (a few files, no build step)."""
    return send_from_directory(STATIC, filename, max_age=300)


def _ts(value) -> datetime | None:
    """A timestamp from a row (datetime) or from a JSON column (ISO 8601 text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@assets.app_template_filter("clock")
def clock(value) -> str:
    """14:03:07 UTC"""
    ts = _ts(value)
    return ts.astimezone(UTC).strftime("%H:%M:%S UTC") if ts else ""


@assets.app_template_filter("when")
def when(value) -> str:
    """07 Dec 2026, 14:03 UTC"""
    ts = _ts(value)
    return ts.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC") if ts else ""


@assets.app_template_filter("iso")
def iso(value) -> str:
    ts = _ts(value)
    return ts.isoformat() if ts else ""


@assets.app_template_filter("money")
def money(minor, currency) -> str:
    """29.00 USD"""
    if minor is None:
        return ""
    return f"{int(minor) / 100:.2f} {str(currency or '').upper()}".strip()


@assets.app_template_filter("age")
def age(seconds) -> str:
    """How long ago, in words a person reads at a glance: 45 s, 12 min, 3 h 05 min, 2 days."""
    s = int(seconds or 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} days"


@assets.app_context_processor
def _nav():
    """The staff experiments page, when its blueprint is registered (a rule under /staff/experiments)."""
    experiments = next((r.endpoint for r in current_app.url_map.iter_rules()
                        if r.rule.rstrip("/") == "/staff/experiments" and "GET" in (r.methods or ())), None)
    return {"staff_experiments_endpoint": experiments, "strategy_names": STRATEGY_NAMES}


def act(call: Callable[[], object], success: str | Callable[[object], str], refused: str) -> None:
    """Run one action's SQL call for a form: flash `success` (or success(result)) when it is done,
    `refused: <the database's message>` when the database refuses it (400/403/404/409); other
    errors (401, 429, 503) go to the error page as usual."""
    try:
        result = call()
    except ApiError as exc:
        if exc.status not in (400, 403, 404, 409):
            raise
        flash(f"{refused}: {exc.message}", "error")
        return
    flash(success(result) if callable(success) else success, "success")


STRATEGIES = (
    ("workshop_only", "Only this workshop",
     "Only this workshop's mechanics are offered your session. If none of them takes it within "
     "10 minutes, you are refunded."),
    ("hybrid", "This workshop first, then anyone",
     "This workshop's mechanics have the first minute to themselves; after that any available "
     "mechanic may take it."),
    ("broadcast", "Anyone",
     "Every available mechanic is offered your session at once: usually the fastest."),
)
STRATEGY_NAMES = {code: name for code, name, _ in STRATEGIES}


def wants_html() -> bool:
    """A browser (text/html preferred over JSON); a client that says nothing gets JSON."""
    return request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to after signing in, never another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def html_errors(bp: Blueprint, always: bool = False) -> None:
    """Errors of this blueprint's views as HTML pages for browsers (always, for page-only
    blueprints, unless the client asks for JSON only); a 401 sends the browser to the sign-in
    page and back. The error's headers (Retry-After of a 429) go with the page too."""

    @bp.errorhandler(ApiError)
    def _error(exc: ApiError):
        if not (always or wants_html()) or (always and request.accept_mimetypes.best == "application/json"):
            return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)
        if exc.status == 401 and request.method == "GET":
            return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")), code=303)
        return render_template("error.html", error=exc), exc.status, exc.headers
