"""get_mechanic_offers merges bounded candidate sets: its top-k must equal the top-k of
scoring every pending request, for every mechanic and many k."""

from __future__ import annotations

import random

import pytest

from tests.dbutil import offers_as

CUSTOMER = "33333333-3333-4333-8333-000000000001"
WORKSHOPS = ["11111111-1111-4111-8111-000000000001", "11111111-1111-4111-8111-000000000002"]

REFERENCE = """
SELECT r.id, ssr_private.routing_offer_score(r.routing_type, r.preferred_workshop_id, r.exclusive_until, a.workshop_id, now())
FROM session_requests AS r
JOIN ssr_private.routing_available_mechanics AS a ON a.mechanic_id = %(m)s
WHERE r.status = 'pending' AND (r.expires_at IS NULL OR r.expires_at > now())
  AND ssr_private.routing_offer_score(r.routing_type, r.preferred_workshop_id, r.exclusive_until, a.workshop_id, now()) IS NOT NULL
ORDER BY 2 DESC, r.created_at, r.id
LIMIT %(k)s
"""


@pytest.fixture
def busy(seeded_conn):
    """A backlog of 120 pending requests of every kind, some hybrid inside their window, some past it,
    some expired but not swept, with distinct ages."""
    rnd = random.Random(7)
    conn = seeded_conn
    for i in range(120):
        kind = rnd.choice(["broadcast", "hybrid", "workshop_only"])
        ws = None if kind == "broadcast" and rnd.random() < 0.7 else rnd.choice(WORKSHOPS)
        sid = conn.execute(
            "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency) "
            "VALUES (%s, 'video15', 2900, 'usd') RETURNING id", (CUSTOMER,)
        ).fetchone()[0]
        rid = conn.execute("SELECT id FROM ssr_private.create_session_request(%s, 'video15', %s, NULL, %s, %s)",
                           (CUSTOMER, sid, ws, kind)).fetchone()[0]
        age = rnd.randint(0, 3000)
        window = rnd.choice(["keep", "past", "none"])
        conn.execute(
            "UPDATE session_requests SET created_at = now() - make_interval(secs => %s), "
            "exclusive_until = CASE WHEN routing_type <> 'hybrid' THEN NULL "
            "  WHEN %s = 'past' THEN now() - interval '1 second' "
            "  WHEN %s = 'none' THEN NULL ELSE now() + interval '1 minute' END, "
            "expires_at = CASE WHEN %s = 0 THEN now() - interval '1 second' ELSE expires_at END "
            "WHERE id = %s",
            (age + i / 1000, window, window, i % 17, rid),
        )
    return conn


def test_offers_equal_the_reference_top_k_for_every_mechanic(busy):
    mechanics = [r[0] for r in busy.execute("SELECT id FROM mechanics ORDER BY id")]
    compared = 0
    for m in mechanics:
        for k in (1, 3, 10, 25, 60, 200):
            got = busy.execute(offers_as("request_id, priority_score"), (m, k)).fetchall()
            want = busy.execute(REFERENCE, {"m": m, "k": k}).fetchall()
            assert got == want, (m, k)
            compared += len(want)
    assert compared > 500  # the backlog really was offered: not a comparison of empty lists
