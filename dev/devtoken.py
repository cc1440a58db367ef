"""Mint a bearer token for local testing: python -m dev.devtoken SUB ROLE [--ttl SECONDS]

Signs with JWT_SECRET from the environment (HS256, claims sub, role, iat, exp, a random jti, and
iss / aud when JWT_ISSUER / JWT_AUDIENCE are set, as the app then requires). The app refuses a
--ttl above its JWT_MAX_LIFETIME_S (default 86400)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import jwt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sub", type=uuid.UUID, help="customer or mechanic id")
    ap.add_argument("role", choices=["customer", "mechanic"])
    ap.add_argument("--ttl", type=int, default=3600)
    a = ap.parse_args(argv)
    secret = os.environ.get("JWT_SECRET")
    if not secret:
        print("devtoken: set JWT_SECRET", file=sys.stderr)
        return 2
    now = int(time.time())
    claims = {"sub": str(a.sub), "role": a.role, "iat": now, "exp": now + a.ttl, "jti": uuid.uuid4().hex}
    for claim, variable in (("iss", "JWT_ISSUER"), ("aud", "JWT_AUDIENCE")):
        if os.environ.get(variable):
            claims[claim] = os.environ[variable]
    print(jwt.encode(claims, secret, algorithm="HS256"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
