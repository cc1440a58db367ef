"""Three pools: everything that writes or decides on DATABASE_URL (the primary), what records a
payment (the webhook, the success page's fulfillment) on PAYMENTS_DATABASE_URL (the payments
login, same primary), reads that may lag (the directory) on DATABASE_READ_URL (a standby). A
connection that finds its server read-only (a demoted primary, a standby being promoted)
answers 503 and is dropped."""

from __future__ import annotations

import os

from app import create_app
from app.db import close_pools
from tests.app.conftest import ANA, CheckedClient, auth, deliver, event_payload, snapshot

# A session on which every transaction is read-only, as on a standby or a demoted primary.
READ_ONLY = " options='-c default_transaction_read_only=on'"


def stats(app, pool: str) -> dict:
    return app.extensions[pool].get().get_stats()


def test_without_a_read_url_both_pools_are_one(app):
    assert app.extensions["db_read_pool"] is app.extensions["db_pool"]


def test_without_a_payments_url_the_payments_pool_is_the_main_one(app_config):
    one = create_app({k: v for k, v in app_config.items() if k != "PAYMENTS_DATABASE_URL"})
    assert one.extensions["db_payments_pool"] is one.extensions["db_pool"]
    close_pools(one)


def test_directory_reads_the_read_url_and_writes_never_do(app_config, db, db_url):
    # The read URL is a read-only server: the directory works there, accepts (writes,
    # decisions) go to DATABASE_URL, webhooks to PAYMENTS_DATABASE_URL.
    two = create_app(dict(app_config, DATABASE_READ_URL=app_config["DATABASE_URL"] + READ_ONLY))
    try:
        assert two.extensions["db_read_pool"] is not two.extensions["db_pool"]
        client = CheckedClient(two)
        r = client.get("/api/workshops/directory?limit=5")
        assert r.status_code == 200 and r.get_json()["workshops"]
        assert stats(two, "db_read_pool")["requests_num"] == 1
        before = snapshot(db)
        r = deliver(client, event_payload({"id": "pi_1", "object": "payment_intent"},
                                          "payment_intent.created", "evt_pools_1"))
        assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"
        r = client.get("/api/mechanic/requests", headers=auth(ANA, "mechanic"))
        assert r.status_code == 200
        assert snapshot(db) == dict(before, stripe_events=before["stripe_events"] + 1)
        assert stats(two, "db_read_pool")["requests_num"] == 1  # none of those went there
        assert stats(two, "db_pool")["requests_num"] == 1
        assert stats(two, "db_payments_pool")["requests_num"] == 1
    finally:
        close_pools(two)


def test_a_write_on_a_read_only_server_is_503_and_its_connection_is_dropped(app_config, db, db_url):
    ro = create_app(dict(app_config, DATABASE_URL=app_config["DATABASE_URL"] + READ_ONLY,
                         PAYMENTS_DATABASE_URL=app_config["PAYMENTS_DATABASE_URL"] + READ_ONLY))
    try:
        client = CheckedClient(ro)
        before = snapshot(db)
        r = deliver(client, event_payload({"id": "pi_2", "object": "payment_intent"},
                                          "payment_intent.created", "evt_pools_ro"))
        assert r.status_code == 503, r.get_json()
        assert r.get_json()["error"]["code"] == "database_read_only"
        assert r.headers.get("Retry-After")
        assert snapshot(db) == before
        # Returned closed, so the pool discards it and connects again (to the new primary).
        pay = stats(ro, "db_payments_pool")
        assert pay.get("returns_bad", 0) + pay.get("connections_lost", 0) == 1
    finally:
        close_pools(ro)


def test_a_connection_whose_backend_is_gone_is_dropped_before_use(app, db):
    # The pool checks a connection before handing it out without a round trip (a readable
    # socket on an idle connection means the server spoke unasked: a terminated backend's FATAL
    # message or the end of the connection), so a backend ended by a restart, a crash or an
    # operator is never handed to a request: the delivery after it succeeds on a new connection.
    client = CheckedClient(app)
    first = deliver(client, event_payload({"id": "pi_3", "object": "payment_intent"},
                                          "payment_intent.created", "evt_pools_gone_1"))
    assert first.status_code == 200, first.get_json()
    pool = app.extensions["db_payments_pool"].get()
    name = f"ssr-app-payments:{os.getpid()}"
    gone = {pid for (pid,) in db.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchall()}
    assert gone
    for pid in gone:
        assert db.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]
    r = deliver(client, event_payload({"id": "pi_4", "object": "payment_intent"},
                                      "payment_intent.created", "evt_pools_gone_2"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["outcome"] == "ignored"
    assert stats(app, "db_payments_pool").get("connections_lost", 0) >= 1
    with pool.connection() as conn:
        assert conn.info.backend_pid not in gone


def test_a_sound_idle_connection_is_used_without_a_round_trip(app, db):
    from app.db import check_idle_connection

    pool = app.extensions["db_payments_pool"].get()
    conn = pool.getconn()
    try:
        conn.execute("SELECT 'the last statement'")
        check_idle_connection(conn)
        # The backend saw nothing after the statement (psycopg_pool's own check sends one).
        db.execute("SELECT pg_stat_clear_snapshot()")
        last = db.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (conn.info.backend_pid,)).fetchone()
        assert last == ("SELECT 'the last statement'",)
    finally:
        pool.putconn(conn)
