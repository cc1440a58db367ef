"""Signing a browser in and out: the session cookie is established from the same JWT the API
takes. In demo mode only (DEMO_SIGN_IN, set by `make run` with its demo secrets), one button
signs in as the seed's Alice (customer), Ana (mechanic) or Sam (staff), the token minted server-side."""

from __future__ import annotations

import jwt
from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from app import auth, limits
from app.db import call
from app.errors import ApiError
from app.pages import html

bp = Blueprint("account", __name__, url_prefix="/account")
html.html_errors(bp, always=True)

# The seed's demo people (db/seeds/0001_demo.sql).
DEMO_PEOPLE = {
    "alice": ("33333333-3333-4333-8333-000000000001", "customer", "Alice (customer)"),
    "ana": ("22222222-2222-4222-8222-000000000001", "mechanic", "Ana (mechanic, AutoPro)"),
    "sam": ("44444444-4444-4444-8444-000000000001", "staff", "Sam (staff, admin)"),
    "sue": ("44444444-4444-4444-8444-000000000002", "staff", "Sue (staff, support)"),
}
DEMO_TTL = 8 * 3600


def home_of(role: str) -> str:
    if role == "mechanic":
        return url_for("mechanic_pages.dashboard")
    if role == "staff":
        return url_for("staff.requests")
    return url_for("workshops.directory")


def remember_who(principal: auth.Principal) -> None:
    """The signed-in person's name for the header (get_signed_in_person, acting for them), kept in
    the session so no page pays a second call for it. A staff token whose sub is not an active
    staff member is refused here (403): staff are granted in the database."""
    g.principal = principal  # the call carries the token's id (app.token_id)
    row = call("SELECT * FROM get_signed_in_person(%s, %s)", (principal.role, principal.sub),
               **{f"acting_{principal.role}": principal.sub})
    if row is None:
        session.pop(auth.SESSION_NAME, None)
        return
    session[auth.SESSION_NAME] = {"name": row["name"], "detail": row["detail"]}


def claimed_subject(token: str) -> str | None:
    """The `sub` a token claims, read without verifying it (what the per-identity sign-in limit
    counts; the token is verified after)."""
    try:
        sub = jwt.decode(token.strip(), options={"verify_signature": False}).get("sub")
    except (jwt.InvalidTokenError, AttributeError):
        return None
    return sub[:100] if isinstance(sub, str) and sub else None


@bp.get("/sign-in")
def sign_in():
    demo = DEMO_PEOPLE if current_app.config.get("DEMO_SIGN_IN") else {}
    return render_template("sign_in.html", demo=demo, next=request.args.get("next", ""))


@bp.post("/sign-in")
def sign_in_post():
    auth.check_csrf()
    token = request.form.get("token", "")
    limits.check("SIGN_IN", claimed_subject(token))
    if not token.strip():
        raise ApiError(400, "invalid_input", "paste your access token", "token")
    principal = auth.sign_in(token)
    try:
        remember_who(principal)
    except ApiError:
        session.clear()  # not signed in after all (e.g. a staff token for someone not on the staff)
        raise
    return redirect(html.safe_next(request.form.get("next"), home_of(principal.role)), code=303)


@bp.post("/demo-sign-in")
def demo_sign_in():
    if not current_app.config.get("DEMO_SIGN_IN"):
        raise ApiError(404, "not_found", "demo sign-in is not enabled")
    auth.check_csrf()
    limits.check("SIGN_IN")
    who = request.form.get("who", "")
    if who not in DEMO_PEOPLE:
        raise ApiError(400, "invalid_input", f"who must be one of {', '.join(DEMO_PEOPLE)}", "who")
    sub, role, _ = DEMO_PEOPLE[who]
    remember_who(auth.sign_in(auth.mint(sub, role, DEMO_TTL)))
    return redirect(html.safe_next(request.form.get("next"), home_of(role)), code=303)


@bp.post("/sign-out")
def sign_out():
    auth.check_csrf()
    auth.sign_out()
    return redirect(url_for("account.sign_in"), code=303)
