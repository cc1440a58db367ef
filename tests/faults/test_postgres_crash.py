"""Postgres killed (`pg_ctl stop -m immediate`) under load, on durable settings, then started again.

What must hold: whatever the app answered 2xx is there afterwards; one session and one request per
paid Checkout Session; one winner per request, who is the one told 2xx; the app and the worker
carry on by themselves."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime

import psycopg

from tests.app.conftest import ALICE, WEBHOOK_SECRET, token
from tests.faults.harness import (
    LONG,
    ROOT,
    Tally,
    create_paid_checkouts,
    in_flight_across,
    request,
    run_threads,
    signed_delivery,
    wait_for,
    with_retries,
)

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def crash_and_restart(cluster, down_seconds: float) -> tuple[float, float, float]:
    """Crash, stay down `down_seconds`, start again (crash recovery).
    Returns (time of the crash, time it serves again, seconds the start took)."""
    t_crash = time.time()
    cluster.crash()
    time.sleep(down_seconds)  # the length of the outage, not a wait for something to happen
    restart = cluster.start()
    return t_crash, time.time(), restart


def test_postgres_crash_during_paid_webhooks(durable_cluster, server, fault_stripe, figures):
    assert durable_cluster.settings() == DURABLE
    n = 1200 if LONG else 320
    senders = 8
    checkouts = create_paid_checkouts(server.base, fault_stripe, n, token(ALICE, ttl=3600))
    rng = random.Random(20261127)
    # Every event once, and one in ten a second time (Stripe delivers at least once).
    deliveries = checkouts + [c for i, c in enumerate(checkouts) if i % 10 == 0]
    rng.shuffle(deliveries)

    # The worker runs through the crash too: it must log, back off and carry on.
    worker_log = tempfile.NamedTemporaryFile(prefix="ssr-faults-worker-", suffix=".log", delete=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker.supervisor", "--every", "sweep=0.2", "--backoff", "0.1", "--max-backoff", "0.5"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": durable_cluster.url}, stdout=worker_log, stderr=subprocess.STDOUT,
    )

    tally = Tally()
    acks: dict[int, tuple[float, str]] = {}  # delivery index -> (time the 2xx arrived, outcome)
    lock = threading.Lock()
    next_index = iter(range(len(deliveries)))
    deadline = time.monotonic() + (300 if LONG else 120)

    def sender(_):
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            _, _, payload = deliveries[i]
            _, body, at = with_retries(lambda p=payload: signed_delivery(server.base, p, WEBHOOK_SECRET), tally, deadline)
            with lock:
                acks[i] = (at, body["outcome"])
            time.sleep(0.01)  # a sender's pace: the run lasts long enough for the crash to land in it

    runner = threading.Thread(target=run_threads, args=(senders, sender, deadline - time.monotonic()), daemon=True)
    try:
        runner.start()
        wait_for(lambda: len(acks) >= len(deliveries) // 3, 60, "a third of the deliveries to be answered")
        acked_before_crash = len(acks)
        t_crash, t_up, restart_seconds = crash_and_restart(durable_cluster, 1.0)
        runner.join(deadline - time.monotonic())
        assert not runner.is_alive(), "senders did not finish"
        first_ack_after = min(at for at, _ in acks.values() if at > t_up)
        across = in_flight_across(tally, t_crash, t_up)
        assert across >= 1, "the crash must have hit deliveries in flight"

        # The app serves again with no manual step: plain requests, no retry.
        after = [request("GET", server.base + "/api/workshops/directory?limit=1")[0] for _ in range(8)]
        assert after == [200] * 8
        assert request("GET", server.base + "/healthz")[0] == 200

        with psycopg.connect(durable_cluster.url) as c:
            rows = c.execute(
                "SELECT s.stripe_checkout_session_id, min(s.created_at), count(DISTINCT s.id), count(r.id) "
                "FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id "
                "WHERE s.stripe_checkout_session_id = ANY(%s) GROUP BY 1",
                ([cs for cs, _, _ in checkouts],),
            ).fetchall()
            events = dict(c.execute("SELECT id, received_at FROM stripe_events WHERE id = ANY(%s)",
                                    ([ev for _, ev, _ in checkouts],)).fetchall())
        by_cs = {cs: (created, n_sessions, n_requests) for cs, created, n_sessions, n_requests in rows}

        # Every delivery answered 2xx has its session, created no later than that answer
        # (a session lost in the crash and re-created by a later delivery would be younger).
        assert len(acks) == len(deliveries)
        lost = []
        for i, (at, _) in acks.items():
            cs, ev, _ = deliveries[i]
            answered = datetime.fromtimestamp(at, UTC)
            if cs not in by_cs or by_cs[cs][0] > answered or ev not in events or events[ev] > answered:
                lost.append(cs)
        assert lost == [], f"{len(lost)} deliveries answered 2xx have no session from before the answer"
        # Exactly one session and one request per checkout session.
        assert len(by_cs) == n
        assert {v[1:] for v in by_cs.values()} == {(1, 1)}
        outcomes = [o for _, o in acks.values()]
        # A delivery whose transaction committed but whose answer the crash cut is retried and then
        # finds its own work done ("duplicate"): that is the only other way a delivery may end.
        assert set(outcomes) <= {"fulfilled", "duplicate"}
        assert outcomes.count("fulfilled") <= n

        # The worker lived through it: it logged the failures and recovered by itself.
        wait_for(lambda: "recovered" in open(worker_log.name).read(), 30, "the worker to recover")
        assert worker.poll() is None, "the worker died"
        worker_text = open(worker_log.name).read()
        worker_failures = worker_text.count("job sweep failed")
        assert worker_failures >= 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        worker_log.close()
        os.unlink(worker_log.name)

    figures(settings="fsync/synchronous_commit/full_page_writes on", checkouts=n, deliveries=len(deliveries),
            senders=senders, answered_2xx_before_crash=acked_before_crash, attempts=tally.attempts,
            answers=dict(sorted(tally.by_status.items())), connection_errors=tally.connection_errors,
            restart_seconds=round(restart_seconds, 2), first_2xx_after_restart_s=round(first_ack_after - t_up, 2),
            no_2xx_for_s=round(first_ack_after - t_crash, 2),
            in_flight_across_outage=across, sessions=len(by_cs), lost_after_2xx=len(lost), doubled=sum(v[1] > 1 for v in by_cs.values()),
            answered_fulfilled=outcomes.count("fulfilled"), answered_duplicate=outcomes.count("duplicate"),
            worker_failed_runs=worker_failures)


def test_accepts_while_postgres_restarts(durable_cluster, server, figures):
    assert durable_cluster.settings() == DURABLE
    n_requests = 200 if LONG else 60
    with psycopg.connect(durable_cluster.url, autocommit=True) as c:
        mechanics = [str(r[0]) for r in c.execute(
            "SELECT DISTINCT mechanic_id FROM get_mechanics_for_routing(NULL, 'broadcast') ORDER BY 1").fetchall()]
        # Each mechanic may win many of the requests: lift their capacity of concurrent
        # sessions (default 1; accept still checks it on every call).
        c.execute("UPDATE mechanics SET capacity = 1000 WHERE id = ANY(%s::uuid[])", (mechanics,))
        requests_ = []
        for _ in range(n_requests):
            row = c.execute(
                "SELECT session_request_id FROM ssr_private.fulfill_checkout('video15', %s, NULL, %s, 'alice@customer.example', "
                "2900, 'usd', NULL, NULL, 'broadcast')", ("cs_test_accept_" + uuid.uuid4().hex, ALICE)).fetchone()
            requests_.append(str(row[0]))
    assert len(mechanics) >= 3
    tokens = {m: token(m, "mechanic", ttl=3600) for m in mechanics}
    tally = Tally()
    answers: dict[tuple[str, str], int] = {}  # (mechanic, request) -> final status
    lock = threading.Lock()
    deadline = time.monotonic() + (300 if LONG else 120)
    final = {200, 403, 404, 409}

    def mechanic(i):
        m = mechanics[i]
        order = list(requests_)
        random.Random(i).shuffle(order)
        for r in order:
            time.sleep(0.05)  # a mechanic's pace: spreads the accepts over the crash (not for ordering)
            status, _, _ = with_retries(
                lambda r=r: request("POST", f"{server.base}/api/session-requests/{r}/accept",
                                    headers={"Authorization": f"Bearer {tokens[m]}"}),
                tally, deadline, done=lambda s: s in final)
            with lock:
                answers[(m, r)] = status

    runner = threading.Thread(target=run_threads, args=(len(mechanics), mechanic, deadline - time.monotonic()), daemon=True)
    runner.start()
    total = len(mechanics) * n_requests
    wait_for(lambda: len(answers) >= total // 3, 60, "a third of the accepts to be answered")
    answered_before = len(answers)
    t_crash, t_up, restart_seconds = crash_and_restart(durable_cluster, 1.0)
    runner.join(deadline - time.monotonic())
    assert not runner.is_alive(), "mechanics did not finish"
    across = in_flight_across(tally, t_crash, t_up)
    assert across >= 1, "the crash must have hit accepts in flight"
    assert answered_before < len(answers), "accepts went on after the restart"

    with psycopg.connect(durable_cluster.url) as c:
        winners = dict(c.execute("SELECT id::text, mechanic_id::text FROM session_requests WHERE id = ANY(%s::uuid[]) "
                                 "AND status = 'accepted'", (requests_,)).fetchall())
    told = {r: [m for m in mechanics if answers[(m, r)] == 200] for r in requests_}
    two_winners = [r for r, ms in told.items() if len(ms) > 1]
    wrong = [r for r, ms in told.items() if ms and winners.get(r) != ms[0]]
    assert two_winners == [], "two mechanics told 2xx for one request"
    assert wrong == [], "a mechanic told 2xx is not the winner after recovery"
    # Every request has its winner, and the winner was told so (a retried accept is idempotent for them).
    assert len(winners) == n_requests
    assert all(len(ms) == 1 for ms in told.values())
    statuses = list(answers.values())
    figures(settings="durable", requests=n_requests, mechanics=len(mechanics),
            answered_before_crash=answered_before, attempts=tally.attempts,
            answers=dict(sorted(tally.by_status.items())), connection_errors=tally.connection_errors,
            restart_seconds=round(restart_seconds, 2), in_flight_across_outage=across, winners=len(winners),
            winners_told_2xx=sum(len(ms) == 1 for ms in told.values()), two_2xx_winners=len(two_winners),
            final_409=statuses.count(409))
