"""The one Stripe boundary, for the app and the worker alike: the client factory (`stripe_client`:
the real library's StripeClient with a bounded timeout per attempt, 2 network retries, the
environment's proxy, and `base_addresses` pointing at another API address such as the local fake
when STRIPE_API_BASE is set), the one fetch of a Checkout Session (`retrieve_checkout_session`),
and the one answer the app gives when Stripe fails it (`provider_error`: 502, or 503 with
Retry-After to Stripe's webhook deliveries). Flask is not imported here at load time: the worker
(worker/refunds.py) imports this module without it.

The HTTP client is the library's RequestsClient with one requests.Session per client, kept
alive between calls (a webhook's re-fetch reuses a connection instead of opening one) and
with `trust_env` off: requests would otherwise read the proxy variables and .netrc again on
every call (a third of a re-fetch's Python time, measured by make bench). The proxy the
environment names for the Stripe API (HTTPS_PROXY, NO_PROXY, ...) is read once, here, and
passed to the client, so a proxy still applies."""

from __future__ import annotations

import os
import re
import urllib.request
from urllib.parse import urlsplit

import requests
import stripe
from requests.adapters import HTTPAdapter

CS_ID = re.compile(r"^cs_[A-Za-z0-9_]+$")
STRIPE_API = "https://api.stripe.com"
# A bounded timeout per attempt (the library's default is 80 s, past gunicorn's worker timeout):
# with 2 retries a Stripe call gives up well before a gunicorn worker would be killed.
DEFAULT_TIMEOUT = 5.0
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def environment_proxy(api_base: str) -> dict[str, str] | None:
    """The proxy the environment sets for the Stripe API's address (as requests would find it
    per call), or None: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, unless NO_PROXY excludes the host."""
    parts = urlsplit(api_base)
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    return {"http": proxy, "https": proxy} if proxy else None


def http_client(api_base: str, timeout: float) -> stripe.RequestsClient:
    session = requests.Session()
    session.trust_env = False
    # One connection per thread that may call Stripe at once (gunicorn's threads), kept alive.
    size = int(os.environ.get("GUNICORN_THREADS", "128"))
    session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=size))
    session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=size))
    return stripe.RequestsClient(timeout=timeout, session=session, proxy=environment_proxy(api_base))


def stripe_client(secret_key: str, api_base: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> stripe.StripeClient:
    """The StripeClient of the app and of the worker."""
    return stripe.StripeClient(
        secret_key, base_addresses={"api": api_base} if api_base else None, max_network_retries=2,
        http_client=http_client(api_base or STRIPE_API, timeout),
    )


def stripe_client_from_env() -> stripe.StripeClient:
    """The worker's client: STRIPE_SECRET_KEY, STRIPE_API_BASE and STRIPE_TIMEOUT, as the app reads them."""
    key = os.environ.get("STRIPE_SECRET_KEY")
    if not key:
        raise SystemExit("set STRIPE_SECRET_KEY (and STRIPE_API_BASE for the local fake)")
    return stripe_client(key, os.environ.get("STRIPE_API_BASE") or None,
                         float(os.environ.get("STRIPE_TIMEOUT") or DEFAULT_TIMEOUT))


def init_app(app) -> None:
    c = app.config
    app.extensions["stripe"] = stripe_client(c["STRIPE_SECRET_KEY"], c.get("STRIPE_API_BASE"),
                                             float(c.get("STRIPE_TIMEOUT") or DEFAULT_TIMEOUT))
    app.config["STRIPE_LIVEMODE"] = c["STRIPE_SECRET_KEY"].startswith(LIVE_KEY_PREFIXES)


def client() -> stripe.StripeClient:
    """The app's client (in a request or app context)."""
    from flask import current_app

    return current_app.extensions["stripe"]


def retrieve_checkout_session(stripe_client: stripe.StripeClient, cs_id: str) -> dict:
    """GET /v1/checkout/sessions/<id> as a plain dict (`payment_intent` an id or None, not
    expanded): the library's raw_request (same authentication, retries and errors as
    `v1.checkout.sessions.retrieve`) without building the StripeObject tree the callers would
    only read back as a dict. The webhook, the success page and the worker's money jobs fetch a
    session this way. cs_id must match CS_ID (ValueError otherwise)."""
    if not CS_ID.fullmatch(cs_id):
        raise ValueError("not a Checkout Session id")
    return stripe_client.raw_request("get", f"/v1/checkout/sessions/{cs_id}").data


def provider_error(message: str, *, webhook: bool = False):
    """The ApiError for Stripe failing us (unreachable, 5xx, 429, refused): 502
    `payment_provider_error` to a person or an API client, who may retry; to Stripe's webhook
    delivery (webhook=True) 503 with Retry-After, so that Stripe delivers the event again."""
    from app.errors import RETRY_AFTER_SECONDS, ApiError

    if webhook:
        return ApiError(503, "payment_provider_error", message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return ApiError(502, "payment_provider_error", message)
