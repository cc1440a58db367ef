"""Ranking with reliability: the rank score against hand-computed values (shrunk rating toward the
platform mean, acceptance over the last N offers with timeouts as declines and a minimum count, a
response-time percentile, the mechanic's no-shows, the cold-start boost, the exposure cap), the
rollups kept by triggers equal to a recount, and each mechanic's own figures."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.dbutil import set_identity
from tests.test_routing_world import build_world, new_request


def offer(conn, request_id, mechanic, outcome, answer_seconds=10.0, age_seconds=600.0, ttl=60):
    """An offer made age_seconds ago, answered after answer_seconds (a timeout: at its expiry), as the
    offers helper writes them: inserted with its outcome."""
    return conn.execute(
        "INSERT INTO offers (session_request_id, mechanic_id, tier, score, offered_at, expires_at, outcome, outcome_at) "
        "VALUES (%s, %s, 'open', 50, now() - make_interval(secs => %s), now() - make_interval(secs => %s) "
        "+ make_interval(secs => %s), %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() - make_interval(secs => %s) "
        "+ make_interval(secs => CASE WHEN %s = 'timed_out' THEN %s ELSE %s END) END) RETURNING id",
        (request_id, mechanic, age_seconds, age_seconds, ttl, outcome, outcome, age_seconds, outcome, ttl, answer_seconds),
    ).fetchone()[0]


def requests(conn, w, n):
    return [new_request(conn, w, "broadcast")["id"] for _ in range(n)]


def reviewed_session(conn, w, mechanic, stars):
    sid = conn.execute(
        "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency, mechanic_id, status, started_at, ended_at) "
        "VALUES (%s, %s, 2900, 'usd', %s, 'completed', now() - interval '2 hours', now() - interval '1 hour') RETURNING id",
        (w.customer, w.plan, mechanic),
    ).fetchone()[0]
    conn.execute("INSERT INTO reviews (session_id, customer_id, mechanic_id, rating) VALUES (%s, %s, %s, %s)",
                 (sid, w.customer, mechanic, stars))
    return sid


def applied(conn) -> int:
    """The worker's ranking_changes job, once: the queued answers of offers into the rollups."""
    return conn.execute("SELECT ssr_private.ranking_apply_offer_changes()").fetchone()[0]


def figures(conn, mechanic, overrides=None) -> dict:
    applied(conn)
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "SELECT * FROM ssr_private.rank_figures(%s, ssr_private.default_policy_params() || %s::jsonb)",
        (mechanic, json.dumps(overrides or {})),
    ).fetchone()


def stored_score(conn, mechanic) -> float:
    applied(conn)
    return conn.execute("SELECT rank_score FROM mechanic_rankings WHERE mechanic_id = %s", (mechanic,)).fetchone()[0]


def test_the_rank_score_matches_the_formula_by_hand(conn):
    w = build_world(conn)
    x, y = w.mech["a1"], w.mech["b1"]
    for stars in (5, 5):
        reviewed_session(conn, w, x, stars)
    for stars in (3, 3):
        reviewed_session(conn, w, y, stars)
    reqs = requests(conn, w, 12)
    for i, r in enumerate(reqs):
        outcome = "accepted" if i < 9 else "declined" if i < 11 else "timed_out"
        offer(conn, r, x, outcome, answer_seconds=10 if i < 9 else 20, age_seconds=1000 - i)
    f = figures(conn, x)
    # by hand
    platform_mean = (5 + 5 + 3 + 3) / 4
    shrunk = (20 * platform_mean + 10) / (20 + 2)
    acceptance = 9 / 12  # the timeout is a decline
    # p75 by nearest rank: the 9th of 12 responses sorted (9 x 10 s, 2 x 20 s, 60 s) is 10 s <= 30 s target
    response_term = 1.0
    quality = (1.0 * (shrunk - 1) / 4 + 0.5 * acceptance + 0.25 * response_term) / (1.0 + 0.5 + 0.25)
    boost = 0.2 * (1 - 12 / 20)  # new: 12 of 20 offers
    assert f["platform_mean"] == pytest.approx(4.0)
    assert f["shrunk_rating"] == pytest.approx(shrunk) and f["rating_mean"] == pytest.approx(5.0)
    assert (f["acceptance_offers"], f["acceptance_rate"]) == (12, pytest.approx(0.75))
    assert f["response_count"] == 12 and f["response_seconds"] == pytest.approx(10.0)
    assert f["sessions_ended"] == 2 and f["no_show_rate"] is None  # under rank_no_show_min (5): not counted
    assert f["quality"] == pytest.approx(quality)
    assert f["cold_start_boost"] == pytest.approx(boost)
    assert f["exposure_offers"] == 12 and f["exposure_capped"] is False
    assert f["rank_score"] == pytest.approx(round(quality + boost, 6), abs=1e-9)
    # the maintained score is that one (the triggers rescored at each outcome)
    assert stored_score(conn, x) == pytest.approx(f["rank_score"], abs=1e-9)
    # the prior's strength and the percentile are the policy's: C = 0 is the plain mean, a 5 s target halves the term
    f0 = figures(conn, x, {"rank_prior_strength": 0, "rank_response_target_seconds": 5})
    assert f0["shrunk_rating"] == pytest.approx(5.0)
    q0 = (1.0 * 1.0 + 0.5 * acceptance + 0.25 * 0.5) / 1.75
    assert f0["quality"] == pytest.approx(q0)
    # the exposure cap: 12 offers in the last hour reach a cap of 12, which subtracts the penalty (2.0)
    fc = figures(conn, x, {"rank_exposure_cap": 12})
    assert fc["exposure_capped"] is True and fc["rank_score"] == pytest.approx(round(quality + boost - 2.0, 6), abs=1e-9)
    # a mechanic without reviews has the platform mean, and without offers only the rating counts
    fz = figures(conn, w.mech["i1"])
    assert fz["review_count"] == 0 and fz["shrunk_rating"] == pytest.approx(platform_mean)
    assert fz["quality"] == pytest.approx((platform_mean - 1) / 4)
    assert fz["cold_start_boost"] == pytest.approx(0.2)


def test_acceptance_needs_a_minimum_count_counts_timeouts_and_uses_the_last_n(conn):
    w = build_world(conn)
    m = w.mech["a2"]
    reqs = requests(conn, w, 12)
    for i in range(9):
        offer(conn, reqs[i], m, "accepted", age_seconds=2000 - i)
    f = figures(conn, m)
    assert f["acceptance_offers"] == 9 and f["acceptance_rate"] is None and f["response_seconds"] is None
    assert f["quality"] == pytest.approx((4.0 - 1) / 4)  # the rating alone: missing terms are not counted
    offer(conn, reqs[9], m, "rescinded", age_seconds=1500)  # nobody's answer
    assert figures(conn, m)["acceptance_offers"] == 9
    offer(conn, reqs[10], m, "timed_out", age_seconds=1000)
    f = figures(conn, m)
    assert (f["acceptance_offers"], f["acceptance_rate"]) == (10, pytest.approx(0.9))
    # the last 5 resolved offers only: 4 accepted and the timeout, the latest
    f5 = figures(conn, m, {"rank_acceptance_window": 5, "rank_acceptance_min": 5})
    assert (f5["acceptance_offers"], f5["acceptance_rate"]) == (5, pytest.approx(0.8))
    # an offer answered later (NULL outcome, then declined) counts when the outcome is set
    live = offer(conn, reqs[11], m, None, age_seconds=30)
    assert figures(conn, m)["acceptance_offers"] == 10
    conn.execute("UPDATE offers SET outcome = 'declined', outcome_at = now() WHERE id = %s", (live,))
    f = figures(conn, m)
    assert (f["acceptance_offers"], f["acceptance_rate"]) == (11, pytest.approx(9 / 11))
    assert stored_score(conn, m) == pytest.approx(f["rank_score"], abs=1e-9)


def test_the_no_show_rate_counts_the_mechanics_missed_sessions_not_the_customers(conn):
    w = build_world(conn)
    m = w.mech["b1"]
    for _ in range(4):
        conn.execute(
            "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency, mechanic_id, status, started_at, ended_at) "
            "VALUES (%s, %s, 2900, 'usd', %s, 'completed', now() - interval '1 hour', now())",
            (w.customer, w.plan, m),
        )
    waiting = [
        conn.execute(
            "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency, mechanic_id) "
            "VALUES (%s, %s, 2900, 'usd', %s) RETURNING id",
            (w.customer, w.plan, m),
        ).fetchone()[0]
        for _ in range(2)
    ]
    assert figures(conn, m)["no_show_rate"] is None  # 4 ended < 5
    conn.execute("UPDATE sessions SET status = 'cancelled' WHERE id = %s", (waiting[0],))  # never started: missed
    f = figures(conn, m)
    assert (f["sessions_ended"], f["no_show_rate"]) == (5, pytest.approx(0.2))
    conn.execute("UPDATE sessions SET status = 'no_show', ended_at = now() WHERE id = %s", (waiting[1],))  # the customer's
    f = figures(conn, m)
    assert (f["sessions_ended"], f["no_show_rate"]) == (6, pytest.approx(1 / 6))
    assert f["quality"] == pytest.approx((1.0 * 0.75 + 0.5 * (1 - 1 / 6)) / 1.5)
    # outside the rolling window (30 days): not counted
    f1 = figures(conn, m, {"rank_window_days": 1})
    assert f1["sessions_ended"] == 6
    conn.execute("UPDATE mechanic_reliability_days SET day = day - 40 WHERE mechanic_id = %s", (m,))
    assert figures(conn, m)["sessions_ended"] == 0


def rollups(conn):
    applied(conn)
    return {
        "reliability": conn.execute(
            "SELECT mechanic_id, review_count, rating_sum, offers_resolved FROM mechanic_reliability "
            "WHERE (review_count, rating_sum, offers_resolved) <> (0, 0, 0) ORDER BY 1"
        ).fetchall(),
        "days": conn.execute("SELECT * FROM mechanic_reliability_days ORDER BY 1, 2").fetchall(),
        "responses": conn.execute("SELECT * FROM mechanic_response_days WHERE responses <> 0 ORDER BY 1, 2, 3").fetchall(),
        "platform": conn.execute("SELECT review_count, rating_sum FROM ranking_platform").fetchall(),
    }


def test_the_incremental_rollups_equal_a_recount(conn):
    w = build_world(conn)
    mechs = [w.mech[k] for k in ("a1", "a2", "b1", "i1", "i2")]
    reqs = requests(conn, w, 8)
    outcomes = ["accepted", "declined", "timed_out", "rescinded", None]
    live = []
    for i, r in enumerate(reqs):
        for j, m in enumerate(mechs):
            o = outcomes[(i + j) % 5]
            oid = offer(conn, r, m, o, answer_seconds=3 + 7 * ((i * j) % 9), age_seconds=5000 - 10 * i - j)
            if o is None:
                live.append(oid)
    for k, oid in enumerate(live):  # answered later (one accept per request is already taken)
        outcome = ("declined", "timed_out")[k % 2]
        conn.execute("UPDATE offers SET outcome = %s, outcome_at = offered_at + interval '12 seconds' WHERE id = %s",
                     (outcome, oid))
    sessions = [reviewed_session(conn, w, m, 1 + (n % 5)) for n, m in enumerate(mechs * 2)]
    conn.execute("UPDATE reviews SET rating = 2 WHERE session_id = %s", (sessions[0],))
    conn.execute("DELETE FROM reviews WHERE session_id = %s", (sessions[1],))
    conn.execute("UPDATE reviews SET mechanic_id = %s WHERE session_id = %s", (mechs[4], sessions[2]))
    waiting = conn.execute(
        "INSERT INTO sessions (customer_id, plan_code, amount_total_minor, currency, mechanic_id) "
        "VALUES (%s, %s, 2900, 'usd', %s) RETURNING id", (w.customer, w.plan, mechs[0]),
    ).fetchone()[0]
    conn.execute("UPDATE sessions SET status = 'refunded' WHERE id = %s", (waiting,))
    kept = rollups(conn)
    # others' scores follow the platform mean at their next rescoring (the job); rescore all now
    conn.execute("SELECT ssr_private.ranking_refresh(1000, '0 seconds')")
    scores = dict(conn.execute("SELECT mechanic_id, rank_score FROM mechanic_rankings").fetchall())
    assert len(kept["reliability"]) == 5 and kept["responses"] and kept["platform"][0][0] == 9
    conn.execute("SELECT ssr_private.ranking_rebuild()")
    assert rollups(conn) == kept
    rebuilt = dict(conn.execute("SELECT mechanic_id, rank_score FROM mechanic_rankings").fetchall())
    for m in mechs:
        assert rebuilt[m] == pytest.approx(scores[m], abs=1e-9)


def test_the_ranking_job_rescores_the_oldest_scores(conn):
    w = build_world(conn)
    conn.execute("DELETE FROM mechanic_rankings")
    active = conn.execute("SELECT count(*) FROM mechanics WHERE status = 'active'").fetchone()[0]
    assert conn.execute("SELECT ssr_private.ranking_refresh(3)").fetchone()[0] == 3
    assert conn.execute("SELECT ssr_private.ranking_refresh()").fetchone()[0] == active - 3
    assert conn.execute("SELECT ssr_private.ranking_refresh()").fetchone()[0] == 0  # all fresh
    conn.execute("UPDATE mechanic_rankings SET computed_at = now() - interval '1 hour', rank_score = -9 WHERE mechanic_id = %s",
                 (w.mech["a1"],))
    assert conn.execute("SELECT ssr_private.ranking_refresh()").fetchone()[0] == 1
    assert stored_score(conn, w.mech["a1"]) == pytest.approx(figures(conn, w.mech["a1"])["rank_score"], abs=1e-9)
    # a mechanic offered work since their score (exposure moved) is rescored first, whatever its age
    conn.execute("UPDATE mechanic_rankings SET computed_at = now() - interval '1 hour' WHERE mechanic_id <> %s",
                 (w.mech["b1"],))
    conn.execute("UPDATE mechanic_rankings SET computed_at = now() - interval '1 second' WHERE mechanic_id = %s",
                 (w.mech["b1"],))
    offer(conn, requests(conn, w, 1)[0], w.mech["b1"], None, age_seconds=0.5)
    assert conn.execute("SELECT ssr_private.ranking_refresh(1)").fetchone()[0] == 1
    assert conn.execute("SELECT computed_at > now() - interval '1 second' FROM mechanic_rankings WHERE mechanic_id = %s",
                        (w.mech["b1"],)).fetchone()[0] is True
    assert figures(conn, w.mech["b1"])["exposure_offers"] == 1


def test_a_mechanic_sees_their_own_figures_only(conn):
    w = build_world(conn)
    m = w.mech["a1"]
    q = "SELECT * FROM get_mechanic_reliability(%s)"
    with pytest.raises(psycopg.Error) as info:
        conn.execute(q, (m,))
    assert info.value.sqlstate == "SR403" and info.value.diag.column_name == "mechanic_id"
    set_identity(conn, "mechanic", w.mech["a2"])
    with pytest.raises(psycopg.Error) as info:
        conn.execute(q, (m,))
    assert info.value.sqlstate == "SR403"
    set_identity(conn, "mechanic", m)
    reqs = requests(conn, w, 2)
    offer(conn, reqs[0], m, "accepted")
    assert applied(conn) == 1  # the answer reaches the figures with the ranking_changes job
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(q, (m,)).fetchone()
    f = figures(conn, m)
    assert row["rank_score"] == pytest.approx(f["rank_score"]) == pytest.approx(stored_score(conn, m), abs=1e-9)
    assert (row["acceptance_offers"], row["acceptance_rate"], row["minimum_count"], row["acceptance_window"]) == (1, None, 10, 100)
    assert (row["offers_resolved"], row["window_days"], row["exposure_cap"]) == (1, 30, 30)
    with pytest.raises(psycopg.Error) as info:
        conn.execute(q, (None,))
    assert info.value.sqlstate == "SR400"


def directory_scores(conn) -> dict:
    return {r[0]: float(r[1]) for r in conn.execute("SELECT workshop_id, ranking_score FROM get_workshop_directory(100)")}


def test_the_directory_shrinks_ratings_toward_the_platform_mean(conn):
    w = build_world(conn)
    alpha, beta = w.ws["alpha"], w.ws["beta"]
    conn.execute("UPDATE workshop_stats SET review_count = 10, rating_sum = 45 WHERE workshop_id = %s", (alpha,))
    # before any snapshot of the platform mean: the constants of earlier releases (4.0, C = 20)
    got = directory_scores(conn)
    assert got[alpha] == pytest.approx(round((20 * 4.0 + 45) / 30, 6)) and got[beta] == 4.0
    assert conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()[0] == 0  # no review: 4.0 stands
    # the platform's reviews average 4.75 (stars of 5, 5, 5, 4): the prior moves there
    for m, stars in (("a1", 5), ("a2", 5), ("b1", 5), ("i1", 4)):
        reviewed_session(conn, w, w.mech[m], stars)
    assert conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()[0] >= 2
    got = directory_scores(conn)
    assert got[alpha] == pytest.approx(round((20 * 4.75 + 45) / 30, 6)) and got[beta] == pytest.approx(4.75)
    # a workshop without reviews now ranks above alpha's 4.5 average: it starts at the marketplace's mean
    order = [r[0] for r in conn.execute("SELECT workshop_id FROM get_workshop_directory(100)")]
    assert order.index(beta) < order.index(alpha)
    assert conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()[0] == 0  # the snapshot stands
    # a review of alpha moves alpha's score at once, with the snapshot's prior
    conn.execute("UPDATE workshop_stats SET review_count = 11, rating_sum = 50 WHERE workshop_id = %s", (alpha,))
    assert directory_scores(conn)[alpha] == pytest.approx(round((20 * 4.75 + 50) / 31, 6))
    # the strength is the default policy's rank_prior_strength
    conn.execute("UPDATE routing_policies SET is_default = FALSE WHERE is_default")
    conn.execute("INSERT INTO routing_policies (name, params, is_default) VALUES ('c5', '{\"rank_prior_strength\": 5}', TRUE)")
    assert conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()[0] >= 1
    assert directory_scores(conn)[alpha] == pytest.approx(round((5 * 4.75 + 50) / 16, 6))
    # the rebuild of workshop_stats keeps the scores (the trigger scores what it writes)
    before = directory_scores(conn)
    conn.execute("SELECT ssr_private.workshop_stats_rebuild()")
    conn.execute("UPDATE workshop_stats SET review_count = 11, rating_sum = 50 WHERE workshop_id = %s", (alpha,))
    assert directory_scores(conn) == before


def test_the_directory_takes_off_stars_for_unreliable_mechanics_when_the_policy_says_so(conn):
    w = build_world(conn)
    alpha = w.ws["alpha"]
    # a1 answers 4 of 12 offers with an accept (timeouts as declines): reliability from acceptance and response
    reqs = requests(conn, w, 12)
    for i, r in enumerate(reqs):
        offer(conn, r, w.mech["a1"], "accepted" if i < 4 else "timed_out", age_seconds=900 - i)
    f = figures(conn, w.mech["a1"])
    # acceptance 4/12; responses: 4 x 10 s and 8 timeouts of 60 s, p75 = 60 s against a 30 s target
    assert f["reliability"] == pytest.approx((0.5 * 4 / 12 + 0.25 * 30 / 60) / 0.75)
    stored = conn.execute("SELECT reliability FROM mechanic_rankings WHERE mechanic_id = %s", (w.mech["a1"],)).fetchone()[0]
    assert stored == pytest.approx(f["reliability"])
    assert conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()[0] == 1  # alpha's reliability
    assert conn.execute("SELECT reliability FROM workshop_stats WHERE workshop_id = %s", (alpha,)).fetchone()[0] == (
        pytest.approx(round(f["reliability"], 4)))
    assert directory_scores(conn)[alpha] == 4.0  # weight 0 by default: the stars alone
    conn.execute("UPDATE routing_policies SET is_default = FALSE WHERE is_default")
    conn.execute("INSERT INTO routing_policies (name, params, is_default) VALUES ('rel', '{\"rank_directory_weight\": 1}', TRUE)")
    assert conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()[0] == 1
    got = directory_scores(conn)
    assert got[alpha] == pytest.approx(round(4.0 - 1 * (1 - round(f["reliability"], 4)), 6))
    assert got[w.ws["beta"]] == 4.0  # nobody counted yet: no deduction
