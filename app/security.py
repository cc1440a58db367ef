"""The browser's security headers on every response, and the checks of the secrets at start.

Headers (docs/SECURITY.md, "Browser security headers"): every response, pages, JSON, errors,
static files and the event streams alike, carries

    Content-Security-Policy  default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';
                             connect-src 'self'; form-action 'self' <Stripe Checkout>;
                             frame-ancestors 'none'; base-uri 'none'; object-src 'none'
    X-Frame-Options          DENY
    X-Content-Type-Options   nosniff
    Referrer-Policy          no-referrer
    Cross-Origin-Opener-Policy same-origin
    Strict-Transport-Security max-age=31536000 (only when PUBLIC_BASE_URL is https)

No inline script or style is allowed: the pages' JavaScript and CSS are files of app/static.
`form-action` names Stripe Checkout's origin because the booking form's POST is answered with a
303 to Stripe's hosted page, and browsers check every hop of a form's redirects against it
(with STRIPE_API_BASE, e.g. the local fake that plays that page, its origin too). The event
streams (EventSource) and the success page's polling are same-origin (`connect-src 'self'`).

Secrets (`check_secrets`): outside demo mode (DEMO_SIGN_IN, which `make run` sets only with its
own demo secrets) the app refuses to start with a weak or public secret, naming the variable.
"""

from __future__ import annotations

from urllib.parse import urlsplit

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
HSTS = "max-age=31536000"
MIN_JWT_SECRET_BYTES = 32
# The public demo values of dev/run.py (make run): never accepted outside demo mode.
DEMO_JWT_SECRET = "demo-only-jwt-secret-change-me-0123456789"
DEMO_WEBHOOK_SECRET = "whsec_demo_only_local"


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config) -> str:
    checkout = [STRIPE_CHECKOUT_ORIGIN]
    fake = origin(config.get("STRIPE_API_BASE") or "")
    if fake and fake not in checkout:
        checkout.append(fake)
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self' " + " ".join(checkout),
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ))


def security_headers(config) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(config),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if str(config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def init_app(app) -> None:
    headers = security_headers(app.config)

    @app.after_request
    def _security_headers(resp):
        for name, value in headers.items():
            resp.headers.setdefault(name, value)
        return resp


def check_secrets(settings: dict) -> list[str]:
    """What is wrong with the secrets of `settings` (empty: nothing), each naming its variable.
    Demo mode (DEMO_SIGN_IN) accepts the demo values of dev/run.py and derives SECRET_KEY."""
    demo = bool(settings.get("DEMO_SIGN_IN"))
    problems = []
    jwt_secret = settings.get("JWT_SECRET") or ""
    if len(jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
        problems.append(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (random; e.g. "
                        "python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    elif jwt_secret == DEMO_JWT_SECRET and not demo:
        problems.append("JWT_SECRET is the public demo secret of make run: set a secret of your own")
    webhook = settings.get("STRIPE_WEBHOOK_SECRET") or ""
    if not webhook.startswith("whsec_") or len(webhook) <= len("whsec_"):
        problems.append("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_...)")
    elif webhook == DEMO_WEBHOOK_SECRET and not demo:
        problems.append("STRIPE_WEBHOOK_SECRET is the public demo secret of make run: set the endpoint's own")
    secret_key = settings.get("SECRET_KEY") or ""
    if not demo:
        if not secret_key:
            problems.append("SECRET_KEY is not set (it signs the session cookie and the CSRF tokens; "
                            "at least 32 random bytes, not JWT_SECRET)")
        elif len(secret_key.encode()) < MIN_JWT_SECRET_BYTES:
            problems.append(f"SECRET_KEY must be at least {MIN_JWT_SECRET_BYTES} bytes")
        elif secret_key == jwt_secret:
            problems.append("SECRET_KEY must differ from JWT_SECRET")
    return problems
