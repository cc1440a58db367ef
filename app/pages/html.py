"""What the HTML pages share: content negotiation, HTML error pages, the static assets and the
routing strategies as the pages name them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, send_from_directory, url_for

from app.errors import ApiError, error_response

STATIC = Path(__file__).resolve().parent.parent / "static"  # app/static
assets = Blueprint("assets", __name__, url_prefix="/static")


@assets.get("/<filename>")
def static(filename: str):
    """The pages' CSS and JavaScript (a few files, no build step)."""
    return send_from_directory(STATIC, filename, max_age=300)


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
