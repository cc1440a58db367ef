"""Abuse limits: at most N hits per window of S seconds, per client address and per identity,
on the endpoints that cost the most or invite guessing: signing in, starting a checkout (a
purchase row and a Stripe Checkout Session each) and the unauthenticated Checkout Session
lookups (the success page, which asks Stripe, and the progress the live page polls).

The counters are in Postgres (rate_limit_take, an unlogged table in ssr_private), so every
gunicorn worker and every app server shares them; an extra SQL call per limit a request
takes (the address's, then the identity's), none on the other endpoints. Past a limit: 429
with Retry-After (app/errors.py's JSON, or the HTML error page on page routes).

Configuration (environment, or create_app's config), each "N/S" (N hits per S seconds) or
"off":
  RATE_LIMIT_SIGN_IN_PER_ADDRESS   20/60    sign-in attempts from one address
  RATE_LIMIT_SIGN_IN_PER_IDENTITY  10/60    sign-ins with one subject (the token's sub, read
                                            before the token is verified)
  RATE_LIMIT_CHECKOUT_PER_ADDRESS  60/3600  checkouts started from one address
  RATE_LIMIT_CHECKOUT_PER_IDENTITY 20/3600  checkouts started by one customer
  RATE_LIMIT_LOOKUP_PER_ADDRESS    300/60   Checkout Session lookups from one address
  RATE_LIMIT_LOOKUP_PER_IDENTITY   120/60   lookups of one Checkout Session (cs_ id)
  RATE_LIMIT_TRUSTED_PROXIES       0        reverse proxies in front of the app that set
                                            X-Forwarded-For; 0: the address is the TCP peer's
An address is the client's IP (an IPv6 address counts by its /64).
"""

from __future__ import annotations

import ipaddress
import os
import re

from flask import current_app, request

from app.db import call
from app.errors import ApiError

DEFAULTS = {
    "RATE_LIMIT_SIGN_IN_PER_ADDRESS": "20/60",
    "RATE_LIMIT_SIGN_IN_PER_IDENTITY": "10/60",
    "RATE_LIMIT_CHECKOUT_PER_ADDRESS": "60/3600",
    "RATE_LIMIT_CHECKOUT_PER_IDENTITY": "20/3600",
    "RATE_LIMIT_LOOKUP_PER_ADDRESS": "300/60",
    "RATE_LIMIT_LOOKUP_PER_IDENTITY": "120/60",
}
WHAT = {"SIGN_IN": "sign-in attempts", "CHECKOUT": "checkouts started", "LOOKUP": "checkout status lookups"}
SPEC = re.compile(r"([0-9]{1,7})/([0-9]{1,5})")


def parse(name: str, raw: str) -> tuple[int, int] | None:
    """ "N/S" -> (N, S); "off" -> None; anything else refuses to start."""
    raw = str(raw).strip()
    if raw.lower() == "off":
        return None
    m = SPEC.fullmatch(raw)
    if not m or not 1 <= int(m[1]) <= 1000000 or not 1 <= int(m[2]) <= 86400:
        from app import ConfigError

        raise ConfigError(f"refusing to start: {name} must be N/S (1..1000000 hits per 1..86400 seconds) or off, "
                          f"not {raw!r}")
    return int(m[1]), int(m[2])


def init_app(app) -> None:
    def setting(name: str, default: str) -> str:
        return str(app.config[name]) if app.config.get(name) is not None else os.environ.get(name) or default

    app.config["RATE_LIMITS"] = {name: parse(name, setting(name, default)) for name, default in DEFAULTS.items()}
    proxies = setting("RATE_LIMIT_TRUSTED_PROXIES", "0")
    if not proxies.isdigit():
        from app import ConfigError

        raise ConfigError("refusing to start: RATE_LIMIT_TRUSTED_PROXIES must be a number of proxies (0: none)")
    app.config["RATE_LIMIT_TRUSTED_PROXIES"] = int(proxies)


def client_address() -> str:
    """The client's address: the TCP peer's, or with RATE_LIMIT_TRUSTED_PROXIES = n the one the
    n-th proxy from us saw (n-th from the right of X-Forwarded-For; the proxies append to it).
    IPv6 by its /64 (one client usually holds a whole /64)."""
    addr = request.remote_addr or "unknown"
    n = current_app.config.get("RATE_LIMIT_TRUSTED_PROXIES", 0)
    if n:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if hops:
            addr = hops[-n] if len(hops) >= n else hops[0]
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def check(kind: str, identity: str | None = None) -> None:
    """Take one hit for this request on the limits of `kind` (SIGN_IN, CHECKOUT, LOOKUP): the
    address's, then, only when the address allows it, the identity's (a request the address
    refuses does not eat into the identity's budget). One SQL call per limit taken. Past either:
    429 with Retry-After."""
    limits = current_app.config["RATE_LIMITS"]
    for scope, who in (("ADDRESS", client_address()), ("IDENTITY", identity)):
        spec = limits[f"RATE_LIMIT_{kind}_PER_{scope}"]
        if spec is None or who is None:
            continue
        row = call("SELECT allowed, retry_after FROM rate_limit_take(%s, %s, %s)",
                   (f"{kind.lower()}:{scope.lower()}:{who}"[:200], *spec))
        if not row["allowed"]:
            wait = max(int(row["retry_after"]), 1)
            raise ApiError(429, "rate_limited", f"too many {WHAT[kind]}, retry in {wait} s",
                           headers={"Retry-After": str(wait)})
