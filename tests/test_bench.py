"""The benchmark harness at a tiny scale: the generator's data is complete and consistent,
one real measurement runs, and a wrong result is detected. No timing assertions."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from bench import WrongResult, e2e, generate, measure, profiled, reference_webhook, steady
from bench import pgbench as pgb
from bench.stats import percentile, summarize

TINY = 0.0005  # 1 workshop, 10 mechanics, 100 customers, 500 sessions
SMALL = 0.01  # 20 workshops (fulfill's mix needs active workshops), 10,000 sessions
SMALLER = 0.003  # 6 workshops, 60 mechanics (about 18 available), 3,000 sessions


def count(conn, sql, *args):
    return conn.execute(sql, args or None).fetchone()[0]


def test_generator_fills_consistent_data_and_records_the_scale(db_url):
    info = generate.generate(db_url, TINY, log=lambda *_: None)
    sizes = generate.Sizes.for_scale(TINY)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert count(conn, "SELECT count(*) FROM organizations") == sizes.workshops
        assert count(conn, "SELECT count(*) FROM mechanics") == sizes.mechanics
        assert count(conn, "SELECT count(*) FROM customers") == sizes.customers
        assert count(conn, "SELECT count(*) FROM sessions") == sizes.sessions
        assert count(conn, "SELECT count(*) FROM reviews") == sizes.sessions
        assert count(conn, "SELECT count(*) FROM session_requests") == sizes.sessions + sizes.expired + sizes.pending
        assert info["counts"]["sessions"] == sizes.sessions
        # Rows went in without FK triggers: check the references by hand.
        assert count(conn, """
            SELECT count(*) FROM sessions AS s
            LEFT JOIN mechanics AS m ON m.id = s.mechanic_id LEFT JOIN customers AS c ON c.id = s.customer_id
            WHERE m.id IS NULL OR c.id IS NULL""") == 0
        # Every past session: one accepted request by the same mechanic, served by that mechanic's workshop.
        assert count(conn, """
            SELECT count(*) FROM sessions AS s
            JOIN session_requests AS r ON r.session_id = s.id AND r.status = 'accepted' AND r.mechanic_id = s.mechanic_id
            JOIN mechanics AS m ON m.id = s.mechanic_id
            WHERE s.workshop_id IS NOT DISTINCT FROM m.workshop_id
              AND r.workshop_id IS NOT DISTINCT FROM m.workshop_id""") == sizes.sessions
        # workshop_only requests were served by the preferred workshop.
        assert count(conn, """
            SELECT count(*) FROM session_requests
            WHERE routing_type = 'workshop_only' AND status = 'accepted'
              AND workshop_id IS DISTINCT FROM preferred_workshop_id""") == 0
        # The cached aggregates were recomputed after the trigger-less load.
        assert count(conn, """
            SELECT count(*) FROM mechanics AS m
            WHERE m.rating IS DISTINCT FROM (SELECT round(avg(r.rating), 2) FROM reviews AS r
                                             WHERE r.mechanic_id = m.id)""") == 0
        if measure.has_function(conn, "ssr_private.workshop_stats_rebuild"):
            assert "workshop_stats_rebuild" in info["phases"]["recompute_functions"]
            assert count(conn, "SELECT ssr_private.workshop_stats_rebuild()") == 0  # nothing left to correct
        assert generate.is_reusable(conn, TINY)
        assert not generate.is_reusable(conn, TINY * 10)
        # A fulfillment run against the dataset itself (not a work copy) makes it another dataset.
        with conn.transaction():
            conn.execute("""
                SELECT ssr_private.fulfill_checkout('video15', 'cs_not_generated_1', NULL, c.id, NULL, 2900, 'usd')
                FROM customers AS c ORDER BY c.id LIMIT 1""")
            assert not generate.is_reusable(conn, TINY)
            raise psycopg.Rollback()
        assert generate.is_reusable(conn, TINY)


def test_accept_race_has_exactly_one_winner_per_request(db_url):
    generate.generate(db_url, SMALLER, log=lambda *_: None)
    st = measure.Settings(clients=4, reps=1, accept_requests=12)
    out = measure.accept_contention(db_url, generate.Sizes.for_scale(SMALLER), st)
    for run in (out, out["after_analyze"]):
        assert run["every_request_one_winner"] is True
        assert run["requests_total"] == 12
        assert run["conflicts"] == 12 * 3  # the other three racers lost every time
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert count(conn, """
            SELECT count(*) FROM session_requests AS r JOIN sessions AS s ON s.id = r.session_id
            WHERE s.stripe_checkout_session_id LIKE 'cs_benchacc%' AND r.status = 'accepted'
              AND s.mechanic_id = r.mechanic_id""") == 24
    # The cost of capacity: the same race and the offers with the rule as shipped and without its capacity
    # clause, interleaved; the shipped rule is back afterwards.
    cc = measure.capacity_cost(db_url, generate.Sizes.for_scale(SMALLER),
                               measure.Settings(clients=4, reps=2, accept_requests=8, iterations=5))
    for form in ("shipped", "without_capacity"):
        assert [r["requests"] for r in cc[form]["accept"]["reps"]] == [4, 4]
        assert cc[form]["offers"]["p50_ms"] > 0
    assert set(cc["ratio"]) == {"accept_p50", "accept_throughput", "offers_p50"}
    assert cc["regression"] == sorted(k for k, v in cc["ratio"].items() if v > measure.CAPACITY_LIMIT)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert "p_open_sessions < p_capacity" in conn.execute(
            "SELECT pg_get_functiondef(%s::regprocedure)", (measure.OFFERABLE,)).fetchone()[0]
        assert count(conn, """
            SELECT count(*) FROM session_requests AS r JOIN sessions AS s ON s.id = r.session_id
            WHERE s.stripe_checkout_session_id LIKE 'cs_benchcap%' AND r.status = 'accepted'
              AND s.mechanic_id = r.mechanic_id""") == 16


def test_fulfill_curve_pairs_tpcb_like_and_fulfill_at_each_client_count(db_url, pg_server_url):
    """The concurrency curve (fulfillment's measurement since it measures the steady state): a point
    per client count, each a warmed-up tpcb-like phase and a warmed-up fulfill_checkout phase (real
    pgbench scripts, the relay beside it from a drained outbox), each observed: wait events sampled,
    WAL, commits and write transactions per transaction."""
    generate.generate(db_url, SMALL, log=lambda *_: None)
    st = measure.Settings(clients=2, seconds=1, reps=1, accept_requests=16)
    st.extra["warmup_s"] = 1
    tpcb_url = pgb.init(pg_server_url, 2)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # a backlog in the outbox, as a dataset or an earlier phase leaves: drained before measuring
        conn.execute("UPDATE routing_outbox SET notified_at = NULL WHERE id IN "
                     "(SELECT id FROM routing_outbox ORDER BY id LIMIT 30)")
        backlog = count(conn, "SELECT count(*) FROM routing_outbox WHERE notified_at IS NULL")
    out = steady.fulfill_curve(db_url, tpcb_url, generate.Sizes.for_scale(SMALL), st, clients=(1, 2),
                               log=lambda *_: None)
    assert set(out["clients"]) == {"1", "2"}
    made = 0
    for point in out["clients"].values():
        f, t = point["fulfill"], point["tpcb"]
        assert f["transactions"] > 0 and f["failed"] == 0 and t["transactions"] > 0
        assert point["ratio"] == pytest.approx(f["tps"] / t["tps"], rel=1e-2)
        for phase in (f, t):
            assert phase["waits"]["samples"] > 0 and phase["waits"]["top"]
            assert sum(w["share"] for w in phase["waits"]["top"]) <= 1.0001
            assert phase["wal_bytes_per_tx"] > 0
            # one commit per transaction, give or take the relay's and the statistics' timing
            assert 0.9 <= phase["commits_per_tx"] <= 1.5 and 0.9 <= phase["write_xacts_per_tx"] <= 1.5
        made += f["transactions"]
    assert out["clients"]["1"]["fulfill"]["backlog_at_start"] == backlog  # the first phase drained it
    # steady state: the relay kept up (what the last 100 ms of the first point committed, at most)
    assert out["clients"]["2"]["fulfill"]["backlog_at_start"] <= out["clients"]["1"]["fulfill"]["tps"] * 0.2 + 10
    with psycopg.connect(db_url, autocommit=True) as conn:
        measured = count(conn, "SELECT count(*) FROM sessions WHERE stripe_checkout_session_id LIKE 'cs_benchful%'")
        kinds = {r[0] for r in conn.execute(
            "SELECT DISTINCT r.routing_type FROM session_requests AS r JOIN sessions AS s ON s.id = r.session_id "
            "WHERE s.stripe_checkout_session_id LIKE 'cs_benchful%'").fetchall()}
    assert measured == made  # the warm-ups' sessions carry another tag
    if made >= 30:
        assert kinds == {"broadcast", "hybrid", "workshop_only"}
    # The accept race at each client count, beside the same tpcb-like.
    acc = steady.accept_curve(db_url, generate.Sizes.for_scale(SMALL), st, clients=(1, 2), tpcb=out["clients"],
                              log=lambda *_: None)
    assert set(acc["clients"]) == {"1", "2"}
    for n, point in acc["clients"].items():
        assert point["racers"] == int(n) and point["calls"] == point["requests"] * int(n)
        assert point["calls_ratio_to_tpcb"] == pytest.approx(point["calls_per_s"] / point["tpcb_tps"], rel=1e-2)
        assert point["write_xacts_per_tx"] > 0


def test_wait_sampler_sees_a_backend_waiting_on_a_lock(db_url):
    """The sampler counts what a busy backend waits on: one blocked on a row lock shows as Lock:*,
    and with locks=True the lock it has not been granted is counted too."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_wait_probe (id int PRIMARY KEY)")
        conn.execute("INSERT INTO bench_wait_probe VALUES (1) ON CONFLICT DO NOTHING")
    with psycopg.connect(db_url) as holder, psycopg.connect(db_url, autocommit=True) as waiter:
        holder.execute("SELECT * FROM bench_wait_probe WHERE id = 1 FOR UPDATE")
        waiter.execute("SET lock_timeout = '1s'")
        with steady.WaitSampler(db_url, locks=True) as sampler:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                waiter.execute("SELECT * FROM bench_wait_probe WHERE id = 1 FOR UPDATE")
        holder.rollback()
    got = sampler.result()
    assert got["ticks"] > 10
    events = {t["event"]: t["share"] for t in got["top"]}
    # the waiter on the lock, the holder idle in its transaction (waiting for its client): half each
    assert events.get("Lock:transactionid", 0) >= 0.4 and events.get("Client:ClientRead", 0) >= 0.4
    waited = sum(c for lock, c in got["lock_waits"].items() if lock.startswith("transactionid"))
    assert waited >= 0.4 * got["samples"]


def test_note_indexes_cost_runs_every_form_and_restores_the_shipped_indexes(db_url):
    generate.generate(db_url, SMALL, log=lambda *_: None)
    with psycopg.connect(db_url, autocommit=True) as conn:
        before = [conn.execute("SELECT pg_get_indexdef(to_regclass(%s))", (n,)).fetchone()[0]
                  for n in measure.NOTE_SESSION_INDEXES]
    out = measure.note_indexes_cost(db_url, generate.Sizes.for_scale(SMALL),
                                    measure.Settings(clients=2, seconds=0.5, reps=2))
    for form in ("shipped", "one_column", "none"):
        assert [r["rep"] for r in out[form]["reps"]] == [0, 1]
        assert all(r["transactions"] > 0 and r["wal_bytes_per_tx"] > 0 for r in out[form]["reps"])
    assert out["ratio"]["shipped"] == pytest.approx(out["shipped"]["tps"] / out["none"]["tps"], rel=1e-2)
    with psycopg.connect(db_url, autocommit=True) as conn:
        after = [conn.execute("SELECT pg_get_indexdef(to_regclass(%s))", (n,)).fetchone()[0]
                 for n in measure.NOTE_SESSION_INDEXES]
        made = count(conn, "SELECT count(*) FROM sessions WHERE stripe_checkout_session_id LIKE 'cs_benchidx%'")
    assert after == before and None not in after
    assert made == sum(r["transactions"] for form in ("shipped", "one_column", "none") for r in out[form]["reps"])


def test_backend_cpu_per_transaction_counts_what_ran_between_its_readings(db_url):
    """The one-client CPU figure: the backend is found, /proc read twice while it runs, and the
    transactions between the two readings counted from pgbench's log (here a script that makes
    one row per transaction, so the count can be checked against the table)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_cpu_probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")
    # 6 s: on a loaded machine pgbench's connection and the search for its backend can take most
    # of a 3 s run, leaving no window between the two readings.
    out = pgb.backend_cpu_per_transaction(db_url, seconds=6, script="INSERT INTO bench_cpu_probe DEFAULT VALUES;\n")
    assert out is not None, pgb.MISSED.get("why")
    with psycopg.connect(db_url, autocommit=True) as conn:
        total = count(conn, "SELECT count(*) FROM bench_cpu_probe")
    assert 0 < out["transactions"] < total  # a window inside the run, not the whole run
    assert out["cpu_s"] > 0 and out["cpu_us"] == pytest.approx(out["cpu_s"] * 1e6 / out["transactions"], rel=1e-2)


def test_two_winners_or_a_lost_event_are_wrong_results(db_url):
    generate.generate(db_url, SMALLER, log=lambda *_: None)
    sizes = generate.Sizes.for_scale(SMALLER)
    with psycopg.connect(db_url, autocommit=True) as conn:
        m1, m2 = measure.racers(conn, 2)
        (rid,) = measure.make_pending_requests(conn, sizes, 1, "benchwrong")
        conn.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (str(m1),))
        conn.execute("SELECT accept_session_request(%s, %s)", (rid, m1))
        measure.check_one_winner(conn, {rid: [m1]}, [])  # the truth passes
        with pytest.raises(WrongResult, match="exactly one winner"):
            measure.check_one_winner(conn, {rid: [m1, m2]}, [])
        with pytest.raises(WrongResult, match="not accepted by the caller"):
            measure.check_one_winner(conn, {rid: [m2]}, [])
        with pytest.raises(WrongResult, match="unexpected errors"):
            measure.check_one_winner(conn, {rid: [m1]}, ["SR403: not eligible"])
        # Fulfilled sessions counted against calls: one too many claimed calls is a lost one.
        measure.check_fulfilled(db_url, "benchwrong", 1)
        with pytest.raises(WrongResult, match="fulfill_checkout"):
            measure.check_fulfilled(db_url, "benchwrong", 2)
        # A webhook whose session was never created is a lost event.
        cs_ok = conn.execute("SELECT stripe_checkout_session_id FROM sessions WHERE id = "
                             "(SELECT session_id FROM session_requests WHERE id = %s)", (rid,)).fetchone()[0]
        with pytest.raises(WrongResult, match="lost or doubled"):
            e2e.check_one_session_per_event(conn, [cs_ok, "cs_never_" + uuid.uuid4().hex], [])


def test_reference_webhook_verifies_signatures_and_records_each_purchase_once(db_url):
    """The yardstick of the webhook figures, served as the benchmark serves it (gunicorn with the
    app's settings, the Stripe fake): a good delivery records the purchase it re-fetched, a retry
    changes nothing, a bad or missing signature is 400 and writes nothing, an unpaid session is
    not recorded. Its profiled form answers the parts of a delivery."""
    from dev.stripe_fake import StripeFake, sign

    with psycopg.connect(db_url, autocommit=True) as conn:
        reference_webhook.ensure_table(conn)
    fake = StripeFake(api_keys=("sk_test_bench",)).start()
    web = e2e.Gunicorn(db_url, fake.url, 1, wsgi="bench.reference_webhook:application")
    try:
        web.wait_ready()
        (ref, cs), = e2e.prepare_reference_events(fake, 1)
        unpaid = fake.add_session(client_reference_id="unpaid", amount_total=100, currency="usd",
                                  payment_status="unpaid")["id"]
        evt, body = e2e.event_for(cs)
        ok = e2e.post_all(web.port, [(evt, body), (evt, body)], 1, sign)
        assert ok["bad"] == []
        bad = e2e.post_all(web.port, [(evt, body)], 1, lambda b, secret: sign(b, "whsec_wrong_" + "0" * 24))
        forged_cs = fake.add_session(client_reference_id="forged", amount_total=1, currency="usd")["id"]
        forged = e2e.event_for(forged_cs)
        missing = e2e.post_all(web.port, [forged], 1, lambda b, secret: "")
        assert [x.split(": ")[1][:8] for x in bad["bad"] + missing["bad"]] == ["HTTP 400", "HTTP 400"]
        assert e2e.post_all(web.port, [e2e.event_for(unpaid)], 1, sign)["bad"] == []
        with psycopg.connect(db_url, autocommit=True) as conn:
            e2e.check_reference_recorded(conn, [cs])
            rows = conn.execute(f"SELECT checkout_session_id, client_reference_id FROM {reference_webhook.TABLE}"
                                ).fetchall()
            assert rows == [(cs, ref)]
            with pytest.raises(WrongResult, match="purchases recorded"):
                e2e.check_reference_recorded(conn, [cs, forged_cs])
    finally:
        web.stop()
    try:
        pairs = e2e.prepare_reference_events(fake, 12)
        prof = e2e.profile_one(db_url, fake, "reference", pairs, warm=2)
    finally:
        fake.stop()
    assert prof["plain"]["requests"] == 5 and prof["requests"] == 5 and prof["profiled"]
    parts = prof["parts_ms"]
    assert parts[profiled.TOTAL] > 0
    assert parts["Checkout Session re-fetch (StripeClient.raw_request)"] > 0
    assert parts["database call (app.db.call / record_purchase)"] > 0
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert count(conn, f"SELECT count(*) FROM {reference_webhook.TABLE}") == 1 + 12  # the warm-up recorded too


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    s = summarize([0.001] * 99 + [0.5])
    assert s["p50_ms"] == 1.0 and s["p99_ms"] == 1.0 and s["n"] == 100
    with pytest.raises(ValueError):
        percentile([], 50)



def test_routing_page_measurement_reads_first_and_deep_pages(db_url):
    """bench.measure.routing_page: the first pages and a keyset page deep in the list, 50 rows each."""
    generate.generate(db_url, SMALL, log=lambda *_: None)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE mechanics SET is_available = TRUE WHERE status = 'active'")
    out = measure.routing_page(db_url, measure.Settings(reps=1, iterations=3))
    assert set(out) == {"hybrid_first", "broadcast_first", "hybrid_deep"}
    assert out["broadcast_first"]["rows"] == 50
    assert 0 < out["hybrid_deep"]["rows"] <= 50  # the last tenth of the list, up to a page
