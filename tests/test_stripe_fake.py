"""The local Stripe fake behaves like Stripe where the app depends on it: every object and
event it returns validates against Stripe's OpenAPI description (OpenAPI 3.0: the part the fake
plays, vendored in dev/stripe/openapi-subset.json by dev/stripe_spec_subset.py), and it keeps
Stripe's rules (keys, modes, idempotent replays, lists, expand)."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import pytest
import stripe
from openapi_schema_validator import OAS30Validator

from dev.stripe_fake import LIVE_KEY, TEST_KEY, StripeFake

SPEC = Path(__file__).resolve().parent.parent / "dev" / "stripe" / "openapi-subset.json"
SCHEMA_OF = {"checkout.session": "checkout.session", "refund": "refund", "payment_intent": "payment_intent",
             "item": "item", "charge": "charge", "event": "event"}


def stripe_nullable(node):
    """Stripe's spec marks `nullable: true` beside anyOf and enum, meaning "or null"; a strict
    OpenAPI 3.0.3 validator allows null only beside `type`. Say what Stripe means."""
    if isinstance(node, dict):
        for v in node.values():
            stripe_nullable(v)
        if node.get("nullable") is True:
            for key in ("anyOf", "oneOf"):
                if key in node:
                    node[key] = [*node[key], {"enum": [None], "nullable": True}]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
    elif isinstance(node, list):
        for v in node:
            stripe_nullable(v)


@functools.cache
def components() -> dict:
    """The spec's components, parsed once per test session."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    comps = spec["components"]
    stripe_nullable(comps)
    return comps


def validate(obj: dict, schema: str) -> None:
    root = {"components": components(), "$ref": f"#/components/schemas/{schema}"}
    OAS30Validator(root).validate(obj)


def validate_answer(body: dict) -> int:
    """Validate an API answer (an object, a list of objects or an error); returns how many objects."""
    if "error" in body:
        validate(body, "error")
        return 1
    if body.get("object") == "list":
        assert set(body) >= {"object", "data", "has_more", "url"} and isinstance(body["has_more"], bool)
        return sum(validate_answer(item) for item in body["data"])
    validate(body, SCHEMA_OF[body["object"]])
    return 1


@pytest.fixture
def fake():
    f = StripeFake().start()
    yield f
    f.stop()


def client(fake, key=TEST_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": fake.url}, max_network_retries=0)


def create_params(ref="0b7f3e6e-6a3c-4d8e-9d5b-3f0e6b1c2a11", amount=2900):
    return {
        "mode": "payment", "client_reference_id": ref, "customer_email": "alice@customer.example",
        "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": amount,
                                                      "product_data": {"name": "Video 15"}}}],
        "metadata": {"purchase_id": ref, "plan": "video15"},
        "success_url": "https://ssr.example/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://ssr.example/checkout/cancel",
    }


def test_the_spec_rejects_what_stripe_would_not_send():
    with pytest.raises(Exception, match="required"):
        validate({"id": "cs_test_1", "object": "checkout.session"}, "checkout.session")


def test_every_object_and_event_the_fake_returns_validates_against_the_spec(fake):
    sc = client(fake)
    s = sc.v1.checkout.sessions.create(params=create_params(), options={"idempotency_key": "k1"})
    sc.v1.checkout.sessions.retrieve(s.id)
    sc.v1.checkout.sessions.retrieve(s.id, params={"expand": ["line_items", "payment_intent"]})
    sc.v1.checkout.sessions.line_items.list(s.id)
    fake.mark_paid(s.id)
    paid = sc.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent"]})
    assert paid.payment_intent.status == "succeeded"
    sc.v1.payment_intents.retrieve(paid.payment_intent.id)
    other = sc.v1.checkout.sessions.create(params=create_params(amount=4900))
    sc.v1.checkout.sessions.expire(other.id)
    sc.v1.checkout.sessions.list(params={"created": {"gte": int(time.time()) - 60}, "limit": 1})
    sc.v1.checkout.sessions.list(params={"status": "complete", "expand": ["data.payment_intent"]})
    refund = sc.v1.refunds.create(params={"payment_intent": paid.payment_intent.id, "amount": 900,
                                          "metadata": {"refund_id": "r1"}}, options={"idempotency_key": "r1"})
    sc.v1.refunds.retrieve(refund.id)
    sc.v1.refunds.list(params={"payment_intent": paid.payment_intent.id})
    fake.add_session(amount_total=700, currency="eur", client_reference_id=None)
    for bad in (lambda: sc.v1.checkout.sessions.retrieve("cs_test_nope"),
                lambda: sc.v1.checkout.sessions.expire(s.id),
                lambda: sc.v1.refunds.create(params={"payment_intent": paid.payment_intent.id, "amount": 99999}),
                lambda: sc.v1.checkout.sessions.retrieve(s.id, params={"expand": ["customer.nope"]})):
        with pytest.raises(stripe.InvalidRequestError):
            bad()
    pi = fake.payment_intents[paid.payment_intent.id]
    for event in (fake.event("checkout.session.completed", fake.sessions[s.id]),
                  fake.event("checkout.session.expired", fake.sessions[other.id]),
                  fake.event("refund.created", fake.refunds[refund.id], livemode=False),
                  fake.event("charge.refunded", fake._charge_object(pi), livemode=False)):
        assert event["data"]["object"]["object"] in SCHEMA_OF

    answers = [c["response"] for c in fake.calls]
    assert len(answers) == len(fake.calls) >= 16
    checked = sum(validate_answer(a) for a in answers)
    assert checked >= 15
    kinds = {a.get("object") or "error" for a in answers}
    assert kinds == {"checkout.session", "list", "payment_intent", "refund", "error"}
    for event in fake.events:
        validate(event, "event")
        validate(event["data"]["object"], SCHEMA_OF[event["data"]["object"]["object"]])
    with pytest.raises(stripe.AuthenticationError) as exc:
        client(fake, "sk_test_someone_elses_key").v1.checkout.sessions.retrieve(s.id)
    validate(exc.value.json_body, "error")


def test_a_session_looks_like_stripes_before_and_after_payment(fake):
    sc = client(fake)
    s = sc.v1.checkout.sessions.create(params=create_params())
    assert s.status == "open" and s.payment_status == "unpaid" and s.url and s.payment_intent is None
    assert s.customer_details is None and s.livemode is False and s.id.startswith("cs_test_")
    assert s.expires_at > s.created and s.payment_method_types == ["card"] and s.amount_total == 2900
    fake.mark_paid(s.id)
    paid = sc.v1.checkout.sessions.retrieve(s.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.payment_intent.startswith("pi_test_") and paid.customer_details.email == "alice@customer.example"
    items = sc.v1.checkout.sessions.line_items.list(s.id)
    assert [(i.description, i.amount_total, i.quantity) for i in items.data] == [("Video 15", 2900, 1)]
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        sc.v1.checkout.sessions.expire(s.id)


def test_keys_and_modes(fake):
    with pytest.raises(stripe.AuthenticationError):
        client(fake, "sk_test_unknown").v1.checkout.sessions.create(params=create_params())
    live = client(fake, LIVE_KEY).v1.checkout.sessions.create(params=create_params())
    assert live.livemode is True and live.id.startswith("cs_live_")
    with pytest.raises(stripe.InvalidRequestError) as exc:  # a test key does not see live objects
        client(fake).v1.checkout.sessions.retrieve(live.id)
    assert exc.value.http_status == 404
    assert client(fake).v1.checkout.sessions.list().data == []
    # HTTP Basic with the key as the user name, as `curl -u sk_test_...:` sends it.
    import base64
    import json
    import urllib.request

    basic = base64.b64encode(f"{LIVE_KEY}:".encode()).decode()
    req = urllib.request.Request(f"{fake.url}/v1/checkout/sessions/{live.id}",  # noqa: S310 - the local fake
                                 headers={"Authorization": f"Basic {basic}"})
    with urllib.request.urlopen(req) as r:  # noqa: S310 - the local fake
        assert json.loads(r.read())["id"] == live.id


def test_idempotency_replays_the_first_answer_and_refuses_other_parameters(fake):
    sc = client(fake)
    first = sc.v1.checkout.sessions.create(params=create_params(), options={"idempotency_key": "same"})
    fake.mark_paid(first.id)
    replay = sc.v1.checkout.sessions.create(params=create_params(), options={"idempotency_key": "same"})
    assert (replay.id, replay.status) == (first.id, "open")  # the saved first answer, not today's state
    assert fake.calls[-1]["replayed"] is True and len(fake.sessions) == 1
    with pytest.raises(stripe.IdempotencyError):
        sc.v1.checkout.sessions.create(params=create_params(amount=100), options={"idempotency_key": "same"})
    # A request that ran and then failed: its 500 is saved and replayed (no second session).
    fake.fail_next(500, executed=True)
    with pytest.raises(stripe.APIError):
        sc.v1.checkout.sessions.create(params=create_params(amount=4900), options={"idempotency_key": "k500"})
    with pytest.raises(stripe.APIError):
        sc.v1.checkout.sessions.create(params=create_params(amount=4900), options={"idempotency_key": "k500"})
    assert len(fake.sessions) == 2 and fake.calls[-1]["replayed"] is True
    # A failure before it ran (Stripe-Should-Retry: true) is not saved: the library's retry runs it.
    fake.fail_next(500)
    retried = stripe.StripeClient(TEST_KEY, base_addresses={"api": fake.url}, max_network_retries=1)
    made = retried.v1.checkout.sessions.create(params=create_params(), options={"idempotency_key": "k-retry"})
    assert made.id in fake.sessions and len(fake.sessions) == 3


def test_lists_are_newest_first_and_paginate(fake):
    sc = client(fake)
    ids = [sc.v1.checkout.sessions.create(params=create_params()).id for _ in range(5)]
    page = sc.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in page.data] == ids[::-1][:2] and page.has_more is True
    walked = [s.id for s in sc.v1.checkout.sessions.list(params={"limit": 2}).auto_paging_iter()]
    assert walked == ids[::-1]
    assert sc.v1.checkout.sessions.list(params={"created": {"gt": int(time.time()) + 60}}).data == []
    fake.mark_paid(ids[1])
    assert [s.id for s in sc.v1.checkout.sessions.list(params={"status": "complete"}).data] == [ids[1]]


def test_refunds_follow_the_payment(fake):
    sc = client(fake)
    s = sc.v1.checkout.sessions.create(params=create_params())
    with pytest.raises(stripe.InvalidRequestError):  # nothing paid yet
        sc.v1.refunds.create(params={"payment_intent": "pi_test_nope"})
    pi = fake.mark_paid(s.id)["payment_intent"]
    part = sc.v1.refunds.create(params={"payment_intent": pi, "amount": 900})
    rest = sc.v1.refunds.create(params={"payment_intent": pi})
    assert (part.amount, rest.amount, rest.status, rest.payment_intent) == (900, 2000, "succeeded", pi)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        sc.v1.refunds.create(params={"payment_intent": pi})
    assert exc.value.code == "charge_already_refunded"
    assert {r.id for r in sc.v1.refunds.list(params={"payment_intent": pi}).data} == {part.id, rest.id}


def test_the_vendored_spec_is_whole():
    """dev/stripe/openapi-subset.json resolves every $ref it holds and keeps what the tests need."""
    from dev.stripe_spec_subset import PATHS, SCHEMAS, refs

    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    assert set(spec["paths"]) == set(PATHS) and set(SCHEMAS) | set(SCHEMA_OF.values()) <= set(spec["components"]["schemas"])
    for ref in refs(spec):
        _, _, kind, name = ref.split("/", 3)
        assert name in spec["components"].get(kind, {}), f"{ref} is not in the vendored spec"
