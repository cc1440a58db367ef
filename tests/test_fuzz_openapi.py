"""The contract test: schemathesis fuzzes the running app from app/openapi.json, as a customer and as
a mechanic, with every check it has (`--checks all`: no 5xx; every response, SSE event included, as
documented; every schema-violating request refused; every schema-valid request accepted unless the
state refuses it: 403, 404, 409), plus tests/fuzz_hooks.py's check of the few 400s a schema-valid
request may get (the operation's `x-refusals`). Phases: examples, coverage, fuzzing (positive and
negative data) and stateful (the document's links: offers -> accept -> start -> complete, a new
Checkout Session -> its progress). The database holds the demo data and three paid requests, so
the mechanic's offers and event stream (replayed from `last_event_id`) carry real events.

Bounded here (SSR_FUZZ_EXAMPLES cases per operation and phase, a fixed seed, both roles at once);
`make fuzz` runs the long form (SSR_FUZZ_EXAMPLES=1000, SSR_FUZZ_SEED=fresh: a new seed each run,
printed with the figures and in a failure, to replay it with SSR_FUZZ_SEED=<seed>)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from dev.stripe_fake import StripeFake
from tests.app.conftest import ALICE, ANA, AUTOPRO, JWT_SECRET, SECRET_KEY, WEBHOOK_SECRET, token
from tests.dbutil import create_database, drop_database, load_seeds, url_for
from tests.faults.harness import Gunicorn

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
DOCUMENT = ROOT / "app" / "openapi.json"
_seed = os.environ.get("SSR_FUZZ_SEED", "20261127")
SEED = random.SystemRandom().randrange(2**31) if _seed == "fresh" else int(_seed)
EXAMPLES = int(os.environ.get("SSR_FUZZ_EXAMPLES", "15"))
CHECKS = "all,refused_only_for_a_documented_rule"
PHASES = "examples,coverage,fuzzing,stateful"
# What positive_data_acceptance lets a schema-valid request be answered: the state's refusals. The
# operations with `x-refusals` may also answer 400, and tests/fuzz_hooks.py holds that 400 to the list.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def schemathesis_config(document: dict) -> str:
    """schemathesis.toml for the run, from the document: a 400 allowed where x-refusals says why."""
    out = ["[checks.positive_data_acceptance]", f"expected-statuses = {json.dumps(ACCEPTED)}", ""]
    for ops in document["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and op.get("x-refusals"):
                out += ["[[operations]]", f'include-operation-id = "{op["operationId"]}"',
                        f"checks.positive_data_acceptance.expected-statuses = {json.dumps([*ACCEPTED, '400'])}", ""]
    return "\n".join(out)


def test_refusals_name_parameters_or_fields_of_their_operation():
    """x-refusals names what the operation takes (the field of the app's 400), each with a reason."""
    document = json.loads(DOCUMENT.read_text())
    seen = 0
    for path, ops in document["paths"].items():
        for op in ops.values():
            refusals = op.get("x-refusals") or {}
            names = {p["name"] for p in op.get("parameters", [])}
            for media in (op.get("requestBody") or {}).get("content", {}).values():
                names |= set(media.get("schema", {}).get("properties", {}))
            if op.get("requestBody"):
                names.add("body")
            for name, why in refusals.items():
                assert name in names and why, (path, name)
                seen += 1
    assert seen >= 10
    assert 'include-operation-id = "workshopDirectory"' in schemathesis_config(document)


def paid_request(conn, routing_type: str, workshop: str | None) -> None:
    conn.execute(
        "SELECT ssr_private.fulfill_checkout('video15', %s, NULL, %s, 'alice@customer.example', 2900, 'usd', NULL, "
        "%s, %s)", ("cs_test_fuzz_" + uuid.uuid4().hex, ALICE, workshop, routing_type))


@pytest.fixture(scope="module")
def fuzz_server(pg_server_url, migrated_template, tmp_path_factory):
    name = create_database(pg_server_url, template=migrated_template)
    url = url_for(pg_server_url, name)
    with psycopg.connect(url, autocommit=True) as c:
        load_seeds(c)
        # Offers for Ana and outbox rows on her channels: her stream replays them as events.
        for routing_type, workshop in (("hybrid", AUTOPRO), ("workshop_only", AUTOPRO), ("broadcast", None)):
            paid_request(c, routing_type, workshop)
    fake = StripeFake().start()
    server = Gunicorn({
        "DATABASE_URL": url, "STRIPE_SECRET_KEY": "sk_test_fake_" + "x" * 24, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url, "JWT_SECRET": JWT_SECRET, "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "https://ssr.example",
        # An event stream ends after this long (it would last 10 minutes): each fuzzed stream is a short answer.
        "SSE_MAX_SECONDS": "0.2", "SSE_HEARTBEAT_SECONDS": "0.1",
        # A body announced and never sent (the coverage phase's malformed requests) ends fast.
        "BODY_READ_TIMEOUT": "2",
    }, workers=2)
    config = tmp_path_factory.mktemp("schemathesis") / "schemathesis.toml"
    config.write_text(schemathesis_config(json.loads(DOCUMENT.read_text())))
    try:
        yield server, config
    finally:
        server.stop()
        fake.stop()
        drop_database(pg_server_url, name)


def command(base: str, config: Path, sub: str, role: str) -> list[str]:
    return [
        str(SCHEMATHESIS), "--config-file", str(config), "run", str(DOCUMENT), "--url", base,
        "--seed", str(SEED), "--max-examples", str(EXAMPLES), "--checks", CHECKS, "--mode", "all",
        "--header", f"Authorization: Bearer {token(sub, role, ttl=4 * 3600)}",
        "--phases", PHASES, "--workers", "1", "--request-timeout", "20",
        "--suppress-health-check", "all", "--no-color", "--output-sanitize", "false",
        "--generation-allow-x00", "true", "--generation-database", "none",
        *os.environ.get("SSR_FUZZ_ARGS", "").split(),
    ]


def test_the_document_and_the_app_agree_under_fuzzing(fuzz_server, figures):
    server, config = fuzz_server
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    runs = {role: subprocess.Popen(command(server.base, config, sub, role), cwd=ROOT, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for role, sub in (("customer", ALICE), ("mechanic", ANA))}  # both at once: half the time
    timeout = 600 if EXAMPLES <= 100 else 8 * 3600
    outputs = {role: proc.communicate(timeout=timeout)[0] for role, proc in runs.items()}
    for role, out in outputs.items():
        tail = "\n".join(out.splitlines()[-200:])
        assert runs[role].returncode == 0, f"schemathesis found failures as a {role} (seed {SEED}):\n{tail}"
    server_errors = sum(1 for ln in server.log_lines() if '" 50' in ln)
    assert server_errors == 0, "the server log shows 5xx answers"
    for role, out in outputs.items():
        cases = next((ln.strip() for ln in out.splitlines() if re.match(r"\s*\d+ generated", ln)), "?")
        figures(role=role, seed=SEED, max_examples=EXAMPLES, cases=cases, responses_5xx=server_errors,
                checks=CHECKS, phases=PHASES)
