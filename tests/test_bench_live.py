"""The live-offers benchmark case at a tiny scale: it runs end to end and checks that every
client got every event. No timing assertions (speed is measured by make bench)."""

from __future__ import annotations

from bench import generate, live_sse
from bench.measure import Settings

TINY = 0.0005  # 1 workshop, 10 mechanics, 100 customers


def test_live_offers_case_runs_and_every_client_gets_every_event(db_url):
    generate.generate(db_url, TINY, log=lambda *_: None)
    out = live_sse.run(db_url, generate.Sizes.for_scale(TINY), Settings(reps=1), log=lambda *_: None,
                       clients=5, workers=2, events_per_rep=3, api_calls=5)
    assert out["every_client_every_event"] is True
    assert out["clients"] == 5 and out["reps"][0]["deliveries"] == 5 * 3
    assert out["p99_ms"] >= out["p50_ms"] > 0
