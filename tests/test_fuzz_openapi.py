"""Fuzzing the running app from app/openapi.json with schemathesis, as a customer and as a mechanic:
no 5xx, and every response conforms to the document (status code, content type, headers, schema).

Bounded here (SSR_FUZZ_EXAMPLES cases per operation and phase, a fixed seed); `make fuzz` runs the
long form (SSR_FUZZ_EXAMPLES=1000)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from dev.stripe_fake import StripeFake
from tests.app.conftest import ALICE, ANA, JWT_SECRET, WEBHOOK_SECRET, token
from tests.dbutil import create_database, drop_database, url_for
from tests.faults.harness import Gunicorn

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SEED = 20261127
EXAMPLES = int(os.environ.get("SSR_FUZZ_EXAMPLES", "20"))
CHECKS = ",".join((
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
))


@pytest.fixture(scope="module")
def fuzz_server(pg_server_url, migrated_template):
    name = create_database(pg_server_url, template=migrated_template)
    url = url_for(pg_server_url, name)
    with psycopg.connect(url, autocommit=True) as c:
        for f in sorted((ROOT / "db" / "seeds").glob("*.sql")):
            c.execute(f.read_text(encoding="utf-8").encode())
    fake = StripeFake().start()
    server = Gunicorn({
        "DATABASE_URL": url, "STRIPE_SECRET_KEY": "sk_test_fake_" + "x" * 24, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url, "JWT_SECRET": JWT_SECRET, "PUBLIC_BASE_URL": "https://ssr.example",
        # An event stream ends after this long (it would last 10 minutes): each fuzzed stream is a short answer.
        "SSE_MAX_SECONDS": "0.2", "SSE_HEARTBEAT_SECONDS": "0.1",
    }, workers=2)
    try:
        yield server
    finally:
        server.stop()
        fake.stop()
        drop_database(pg_server_url, name)


@pytest.mark.parametrize("role,sub", [("customer", ALICE), ("mechanic", ANA)])
def test_fuzzing_finds_no_5xx_and_no_response_outside_the_document(fuzz_server, role, sub, figures):
    cmd = [
        str(SCHEMATHESIS), "run", str(ROOT / "app" / "openapi.json"), "--url", fuzz_server.base,
        "--seed", str(SEED), "--max-examples", str(EXAMPLES), "--checks", CHECKS,
        "--header", f"Authorization: Bearer {token(sub, role, ttl=3600)}",
        "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "20",
        "--suppress-health-check", "all", "--no-color",
        "--generation-allow-x00", "true", "--generation-database", "none",
        *os.environ.get("SSR_FUZZ_ARGS", "").split(),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600 if EXAMPLES <= 100 else 4 * 3600,
                          env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"})
    tail = "\n".join(done.stdout.splitlines()[-150:])
    assert done.returncode == 0, f"schemathesis found failures as a {role}:\n{tail}\n{done.stderr[-2000:]}"
    cases = next((ln.strip() for ln in done.stdout.splitlines() if re.match(r"\s*\d+ generated", ln)), "?")
    server_errors = sum(1 for ln in fuzz_server.log_lines() if '" 50' in ln)
    assert server_errors == 0, "the server log shows 5xx answers"
    figures(role=role, seed=SEED, max_examples=EXAMPLES, cases=cases, responses_5xx=server_errors,
            checks=CHECKS.replace(",", " "))
