"""schemathesis hooks for tests/test_fuzz_openapi.py (SCHEMATHESIS_HOOKS=tests.fuzz_hooks).

A request the document calls valid may still be refused for the state it meets: 403, 404, 409
(positive_data_acceptance checks that). A few operations also refuse a schema-valid request with a
400 for a rule no schema can state: a row that must exist (a plan, a workshop, an intake), an
opaque cursor only this directory makes, a rule between two fields, a signature only Stripe can
make. The document lists them per operation in `x-refusals` (field -> why). The run allows a 400
for a positive case of those operations only (the config test_fuzz_openapi.py writes), and the
check below holds that 400 to the list: the error must name one of the operation's x-refusals
fields, so any other 400 of a schema-valid request still fails the run."""

from __future__ import annotations

import html
import json
import re

import schemathesis
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

FLASH = re.compile(r'role="alert">(.*?)</p>', re.S)


def error_field(response) -> str | None:
    """The `field` of the app's error: the JSON shape, or the HTML error page's "(field)"."""
    if (response.headers.get("content-type") or [""])[0].startswith("application/json"):  # lower-case keys, lists
        try:
            return (json.loads(response.content).get("error") or {}).get("field")
        except (ValueError, AttributeError):
            return None
    m = FLASH.search(response.content.decode("utf-8", "replace"))
    if not m:
        return None
    found = re.findall(r"\(([A-Za-z][\w.-]*)\)", html.unescape(m.group(1)))
    return found[-1] if found else None


@schemathesis.check
def refused_only_for_a_documented_rule(ctx, response, case):
    """A schema-valid request answered 400 names a field of its operation's x-refusals."""
    meta = case.meta
    if meta is None or response.status_code != 400 or not meta.generation.mode.is_positive:
        return None
    if is_unexpected_http_status_case(case):
        return None
    refusals = case.operation.definition.raw.get("x-refusals") or {}
    field = error_field(response)
    if field not in refusals:
        raise AssertionError(
            f"a schema-valid request was refused with 400 naming {field!r}, which is not among the "
            f"operation's x-refusals ({', '.join(refusals) or 'none'}): the document and the app disagree\n"
            f"{response.content[:300]!r}")
    return None
