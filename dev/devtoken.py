"""Mint a bearer token for local testing: python -m dev.devtoken SUB ROLE [--ttl SECONDS]

Signs with JWT_SECRET from the environment (HS256, claims sub, role, iat, exp)."""

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
    print(jwt.encode({"sub": str(a.sub), "role": a.role, "iat": now, "exp": now + a.ttl}, secret, algorithm="HS256"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
