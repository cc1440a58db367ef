"""The Stripe side of the app: one StripeClient per app (the real library, `base_addresses`
pointing at another API address such as the local fake when STRIPE_API_BASE is set)."""

from __future__ import annotations

import re

import stripe
from flask import Flask, current_app

CS_ID = re.compile(r"^cs_[A-Za-z0-9_]+$")


def init_app(app: Flask) -> None:
    c = app.config
    base = {"api": c["STRIPE_API_BASE"]} if c.get("STRIPE_API_BASE") else None
    # A bounded timeout per attempt (the library's default is 80 s, past gunicorn's worker timeout):
    # with 2 retries a Stripe call gives up well before the worker would be killed.
    app.extensions["stripe"] = stripe.StripeClient(
        c["STRIPE_SECRET_KEY"], base_addresses=base, max_network_retries=2,
        http_client=stripe.new_default_http_client(timeout=float(c.get("STRIPE_TIMEOUT") or 5)),
    )
    app.config["STRIPE_LIVEMODE"] = c["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))


def client() -> stripe.StripeClient:
    return current_app.extensions["stripe"]
