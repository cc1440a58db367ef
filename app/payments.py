"""The Stripe side of the app: one StripeClient per app (the real library, `base_addresses`
pointing at another API address such as the local fake when STRIPE_API_BASE is set).

Its HTTP client is the library's RequestsClient with one requests.Session for the app, kept
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
from flask import Flask, current_app
from requests.adapters import HTTPAdapter

CS_ID = re.compile(r"^cs_[A-Za-z0-9_]+$")
STRIPE_API = "https://api.stripe.com"


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


def init_app(app: Flask) -> None:
    c = app.config
    base = {"api": c["STRIPE_API_BASE"]} if c.get("STRIPE_API_BASE") else None
    # A bounded timeout per attempt (the library's default is 80 s, past gunicorn's worker timeout):
    # with 2 retries a Stripe call gives up well before the worker would be killed.
    app.extensions["stripe"] = stripe.StripeClient(
        c["STRIPE_SECRET_KEY"], base_addresses=base, max_network_retries=2,
        http_client=http_client(c.get("STRIPE_API_BASE") or STRIPE_API, float(c.get("STRIPE_TIMEOUT") or 5)),
    )
    app.config["STRIPE_LIVEMODE"] = c["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))


def client() -> stripe.StripeClient:
    return current_app.extensions["stripe"]


def retrieve_checkout_session(cs_id: str) -> dict:
    """GET /v1/checkout/sessions/<id> as a plain dict: the library's raw_request (same
    authentication, retries and errors as `v1.checkout.sessions.retrieve`) without building
    the StripeObject tree the webhook would only turn back into a dict. cs_id matches CS_ID."""
    if not CS_ID.fullmatch(cs_id):
        raise ValueError("not a Checkout Session id")
    return client().raw_request("get", f"/v1/checkout/sessions/{cs_id}").data
