"""Logs are written: one JSON line per webhook (event id, type, outcome) and per error, with
LOG_FORMAT=json, from the app under gunicorn as `make run` serves it."""

from __future__ import annotations

from tests.app.conftest import ALICE, WEBHOOK_SECRET, event_payload, token
from tests.faults.harness import create_paid_checkouts, request, signed_delivery, wait_for


def test_one_json_line_per_webhook_and_per_error(server, fault_stripe):
    [(cs_id, event_id, payload)] = create_paid_checkouts(server.base, fault_stripe, 1, token(ALICE), threads=1)
    assert signed_delivery(server.base, payload, WEBHOOK_SECRET)[0] == 200
    assert signed_delivery(server.base, payload, WEBHOOK_SECRET)[0] == 200  # a duplicate: its own line
    bad = event_payload({"id": cs_id}, event_id="evt_log_bad_sig")
    assert signed_delivery(server.base, bad, "whsec_wrong_" + "w" * 32)[0] == 400
    assert request("GET", server.base + "/api/workshops/directory?limit=%00")[0] == 400

    def lines():
        return [r for r in server.json_log() if r.get("event_id") == event_id
                or str(r.get("outcome", "")).startswith("refused 400 invalid_signature")]

    records = wait_for(lambda: len(lines()) >= 3 and lines(), 10, "the webhook log lines")
    mine = sorted((str(r["event_id"]), str(r["event_type"]), r["outcome"], r["level"]) for r in records)
    assert mine == sorted([
        (event_id, "checkout.session.completed", "fulfilled", "INFO"),
        (event_id, "checkout.session.completed", "duplicate", "INFO"),
        ("None", "None", "refused 400 invalid_signature", "INFO"),  # unverified: its ids are not trusted
    ])
    assert all({"time", "logger", "pid", "message"} <= r.keys() for r in records)
    # The webhook re-fetched its Checkout Session: the stripe library's own INFO lines (two per
    # API call) stay out of the log unless STRIPE_LOG_LEVEL asks for them.
    assert [r["message"] for r in server.json_log() if r.get("logger") == "stripe"] == []
    # gunicorn's access log goes through the same JSON handler: every request, its status included.
    def access(pattern: str, status: int) -> bool:
        return any(pattern in r["message"] and f'" {status} ' in r["message"]
                   for r in server.json_log() if r.get("logger") == "gunicorn.access")

    wait_for(lambda: access("/api/stripe/webhook", 200) and access("limit=%00", 400), 10, "the access log lines")
