"""A gunicorn worker killed with SIGKILL in the middle of requests, and the Stripe API unreachable
for 10 s: the deliveries Stripe retries end up fulfilled, each exactly once."""

from __future__ import annotations

import os
import signal
import threading
import time

import psycopg

from tests.app.conftest import ALICE, WEBHOOK_SECRET, token
from tests.faults.harness import (
    LONG,
    Tally,
    create_paid_checkouts,
    request,
    run_threads,
    signed_delivery,
    wait_for,
    with_retries,
)

OUTAGE_SECONDS = 10.0


def deliver_all(server, deliveries, senders: int, tally: Tally, timeout: float, log=None):
    """Deliver every payload with Stripe-like retries from `senders` threads; returns outcomes."""
    outcomes: dict[int, str] = {}
    lock = threading.Lock()
    pending = iter(range(len(deliveries)))
    deadline = time.monotonic() + timeout

    def send(payload):
        status, headers, body = signed_delivery(server.base, payload, WEBHOOK_SECRET)
        if log is not None:
            with lock:
                log.append((time.time(), status, headers.get("Retry-After"), (body or {}).get("error", {}).get("code")))
        return status, headers, body

    def sender(_):
        while True:
            with lock:
                i = next(pending, None)
            if i is None:
                return
            _, body, _ = with_retries(lambda p=deliveries[i][2]: send(p), tally, deadline)
            with lock:
                outcomes[i] = body["outcome"]

    run_threads(senders, sender, timeout)
    return outcomes


def sessions_per_checkout(url: str, cs_ids: list[str]) -> dict[str, tuple[int, int]]:
    with psycopg.connect(url) as c:
        rows = c.execute(
            "SELECT s.stripe_checkout_session_id, count(DISTINCT s.id), count(r.id) "
            "FROM sessions AS s LEFT JOIN session_requests AS r ON r.session_id = s.id "
            "WHERE s.stripe_checkout_session_id = ANY(%s) GROUP BY 1", (cs_ids,)).fetchall()
    return {cs: (a, b) for cs, a, b in rows}


def app_backend_waiting_on_a_lock(url: str):
    """(backend pid, gunicorn worker pid) of an app connection waiting for a lock, or None."""
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute("SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE 'ssr-app:%%' "
                        "AND wait_event_type = 'Lock' ORDER BY query_start LIMIT 1").fetchone()
    return (row[0], int(row[1].split(":", 1)[1])) if row else None


def test_gunicorn_worker_killed_mid_request(durable_cluster, server, fault_stripe, figures):
    n, kills, senders = (300, 10, 8) if LONG else (60, 3, 8)
    checkouts = create_paid_checkouts(server.base, fault_stripe, n, token(ALICE, ttl=3600))
    workers_before = server.worker_pids()
    tally = Tally()
    killed: list[int] = []
    result: dict = {}
    runner = threading.Thread(
        target=lambda: result.update(outcomes=deliver_all(server, checkouts, senders, tally, 120)), daemon=True)
    runner.start()
    for _ in range(kills):
        # Hold the events table so deliveries wait inside a worker; kill the worker of one of them.
        with psycopg.connect(durable_cluster.url) as blocker:
            blocker.execute("LOCK TABLE stripe_events IN ACCESS EXCLUSIVE MODE")
            _, worker_pid = wait_for(lambda: app_backend_waiting_on_a_lock(durable_cluster.url), 20,
                                     "a delivery waiting inside a worker", interval=0.01)
            os.kill(worker_pid, signal.SIGKILL)
            killed.append(worker_pid)
            blocker.rollback()
    runner.join(150)
    assert not runner.is_alive()
    outcomes = result["outcomes"]

    # gunicorn replaced the killed workers; the killed ones are gone.
    wait_for(lambda: len(server.worker_pids()) == 4, 30, "gunicorn to replace the killed workers")
    assert not set(killed) & server.worker_pids()
    assert tally.connection_errors >= kills, "each kill cut a request in flight"
    per_cs = sessions_per_checkout(durable_cluster.url, [cs for cs, _, _ in checkouts])
    assert len(outcomes) == n and set(outcomes.values()) <= {"fulfilled", "duplicate"}
    assert len(per_cs) == n, "nothing lost"
    assert set(per_cs.values()) == {(1, 1)}, "nothing doubled"
    figures(deliveries=n, senders=senders, workers_killed=len(killed),
            workers_replaced=len(server.worker_pids() - workers_before), attempts=tally.attempts,
            answers=dict(sorted(tally.by_status.items())), connection_errors=tally.connection_errors,
            sessions=len(per_cs), lost=n - len(per_cs), doubled=sum(v != (1, 1) for v in per_cs.values()),
            answered_fulfilled=list(outcomes.values()).count("fulfilled"),
            answered_duplicate=list(outcomes.values()).count("duplicate"))


def test_stripe_api_unreachable_for_10_seconds(durable_cluster, server, fault_stripe, figures):
    n, senders = (200, 8) if LONG else (40, 8)
    checkouts = create_paid_checkouts(server.base, fault_stripe, n, token(ALICE, ttl=3600))
    tally = Tally()
    log: list[tuple] = []
    result: dict = {}
    fault_stripe.go_down()
    t_down = time.time()
    try:
        # A customer starting a checkout meanwhile is told to retry (502, JSON, the purchase stays pending).
        status, _, body = request("GET", server.base + "/api/checkout/create-session?plan=video15",
                                  headers={"Authorization": f"Bearer {token(ALICE)}"})
        assert status == 502 and body["error"]["code"] == "payment_provider_error"
        runner = threading.Thread(
            target=lambda: result.update(outcomes=deliver_all(server, checkouts, senders, tally, 120, log)), daemon=True)
        runner.start()
        time.sleep(max(0.0, t_down + OUTAGE_SECONDS - time.time()))  # the outage lasts 10 s
    finally:
        t_up = time.time()  # answers from here on may come from the recovered API
        fault_stripe.come_up()
    runner.join(150)
    assert not runner.is_alive()
    outcomes = result["outcomes"]

    during = [entry for entry in log if entry[0] < t_up]
    assert during, "deliveries were attempted during the outage"
    # Every answer given during the outage: 503, Retry-After, the provider named; none was a 2xx.
    assert {(s, code) for _, s, _, code in during} == {(503, "payment_provider_error")}
    assert all(retry_after for _, _, retry_after, _ in during)
    assert tally.connection_errors == 0  # the app itself stayed up
    per_cs = sessions_per_checkout(durable_cluster.url, [cs for cs, _, _ in checkouts])
    assert len(outcomes) == n and set(outcomes.values()) == {"fulfilled"}
    assert len(per_cs) == n and set(per_cs.values()) == {(1, 1)}
    first_ok = min(at for at, s, _, _ in log if s == 200)
    figures(outage_s=round(t_up - t_down, 1), deliveries=n, senders=senders, attempts=tally.attempts,
            answers_during_outage=len(during), answers=dict(sorted(tally.by_status.items())),
            first_2xx_after_recovery_s=round(first_ok - t_up, 2), sessions=len(per_cs), lost=n - len(per_cs),
            doubled=sum(v != (1, 1) for v in per_cs.values()))
