#!/usr/bin/env python3
"""Write dev/stripe/openapi-subset.json: the part of Stripe's OpenAPI description (spec3.yaml of
github.com/stripe/openapi, MIT licence: dev/stripe/LICENSE) that the local Stripe fake
(dev/stripe_fake.py) plays and the tests validate it against (tests/test_stripe_fake.py), so that
a clone of the project needs nothing beside it.

    .venv/bin/python dev/stripe_spec_subset.py [SPEC3_YAML] [--out dev/stripe/openapi-subset.json]

SPEC3_YAML: a full spec3.yaml; by default ../shared/stripe/spec3.yaml (a copy kept beside the
project; only this script reads it, never a test). Kept: `openapi`, `info`, the PATHS the fake
serves, the SCHEMAS the tests validate, and every component they reference, transitively. The
output is sorted JSON, so a regeneration from the same spec gives the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT.parent / "shared" / "stripe" / "spec3.yaml"
OUT = ROOT / "dev" / "stripe" / "openapi-subset.json"

# What dev/stripe_fake.py serves (its docstring lists the same).
PATHS = (
    "/v1/checkout/sessions",
    "/v1/checkout/sessions/{session}",
    "/v1/checkout/sessions/{session}/line_items",
    "/v1/checkout/sessions/{session}/expire",
    "/v1/refunds",
    "/v1/refunds/{refund}",
    "/v1/payment_intents/{intent}",
)
# The objects tests/test_stripe_fake.py validates the fake's answers and events against.
SCHEMAS = ("checkout.session", "refund", "payment_intent", "item", "charge", "event", "error")


def refs(node) -> set[str]:
    """Every local $ref ("#/components/<kind>/<name>") in node."""
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            ref = n.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                found.add(ref)
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return found


def subset(spec: dict) -> dict:
    missing = [p for p in PATHS if p not in spec["paths"]] + [
        s for s in SCHEMAS if s not in spec["components"]["schemas"]]
    if missing:
        raise SystemExit(f"stripe_spec_subset: not in this spec: {', '.join(missing)}")
    paths = {p: spec["paths"][p] for p in PATHS}
    wanted = refs(paths) | {f"#/components/schemas/{s}" for s in SCHEMAS}
    components: dict[str, dict] = {}
    done: set[str] = set()
    while wanted - done:
        ref = min(wanted - done)
        done.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        wanted |= refs(node)
    if "securitySchemes" in spec["components"]:
        components["securitySchemes"] = spec["components"]["securitySchemes"]
    return {"openapi": spec["openapi"], "info": spec["info"], "paths": paths, "components": components}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC, help=f"a full spec3.yaml (default {DEFAULT_SPEC})")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    if not a.spec.exists():
        print(f"stripe_spec_subset: no spec at {a.spec} (pass the path of Stripe's spec3.yaml)", file=sys.stderr)
        return 2
    with a.spec.open("rb") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe; C if built
    out = subset(spec)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(out["components"].items()))
    print(f"wrote {a.out.relative_to(ROOT) if a.out.is_relative_to(ROOT) else a.out}: "
          f"spec version {out['info']['version']}, {len(out['paths'])} paths, {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
