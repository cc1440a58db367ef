"""The mechanic's live feed over real HTTP under gunicorn: events pushed from the database's
notifications, replay after a reconnect (Last-Event-ID), heartbeats, a cap per worker, a
stop that does not wait for the streams, and the listener's recovery from a lost connection.
Also the booking path with a plain HTTP client (no JavaScript, no browser)."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import psycopg

from app import live
from tests.app.conftest import ALICE, ANA, AUTOPRO, DEV, auth
from tests.app.live_server import serve
from tests.app.sse import SSEClient
from tests.dbutil import ACCEPT_AS

BEN = "22222222-2222-4222-8222-000000000002"  # AutoPro too


def paid_request(conn, routing_type: str = "hybrid", workshop: str | None = AUTOPRO) -> str:
    cs = "cs_test_live_" + uuid.uuid4().hex
    row = conn.execute(
        "SELECT session_request_id FROM ssr_private.fulfill_checkout('video15', %s, NULL, %s, 'alice@customer.example', "
        "2900, 'usd', NULL, %s, %s)", (cs, ALICE, workshop, routing_type)).fetchone()
    return str(row[0])


def test_events_are_pushed_replayed_after_a_reconnect_and_end_on_stop(app_config, seeded_conn, db_url):
    """The worker beside the app relays the notifications (its only sender): the streams only listen."""
    with serve(app_config, workers=1, relay_url=db_url, SSE_HEARTBEAT_SECONDS="0.5",
               SSE_MAX_CLIENTS="2") as (base, _fake, proc):
        assert SSEClient(base).status == 401
        assert SSEClient(base, headers=auth(ALICE, "customer")).status == 403
        assert SSEClient(base, "/api/mechanic/events?last_event_id=x", headers=auth(ANA, "mechanic")).status == 400

        ana = SSEClient(base, headers=auth(ANA, "mechanic"))
        dev = SSEClient(base, headers=auth(DEV, "mechanic"))  # City Auto
        assert ana.status == dev.status == 200
        assert ana.response.getheader("Content-Type").startswith("text/event-stream")
        # Two streams (two channels each), one LISTEN connection in the worker.
        assert seeded_conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ssr-live' "
                                   "AND datname = current_database()").fetchone()[0] == 1
        busy = SSEClient(base, headers=auth(BEN, "mechanic"))  # a third stream on this one worker
        assert busy.status == 503 and busy.response.getheader("Retry-After") == "5"

        hybrid = paid_request(seeded_conn, "hybrid")  # inside the window: AutoPro's channel only
        broadcast = paid_request(seeded_conn, "broadcast", None)
        created = ana.until(lambda n: n["request_id"] == hybrid)
        assert created["json"]["event"] == "created" and created["id"] == str(created["json"]["outbox_id"])
        assert ana.until(lambda n: n["request_id"] == broadcast)["json"]["event"] == "created"
        # City Auto's mechanic hears of the broadcast, never of AutoPro's window.
        first = dev.next_event()
        assert first["json"]["request_id"] == broadcast
        dev.comment("heartbeat", 5)  # a comment every 0.5 s keeps the line alive

        ana.close()
        seeded_conn.execute(ACCEPT_AS, (hybrid, BEN))
        # The server notices the closed stream at its next write (a heartbeat); until then this
        # worker is full and answers 503, and the client retries, as the page does.
        deadline = time.monotonic() + 20
        while True:
            again = SSEClient(base, headers={**auth(ANA, "mechanic"), "Last-Event-ID": created["id"]})
            if again.status != 503 or time.monotonic() > deadline:
                break
            again.close()
            time.sleep(0.2)
        assert again.status == 200
        accepted = again.until(lambda n: n["request_id"] == hybrid and n["event"] == "accepted")
        assert accepted["json"]["mechanic_id"] == BEN and int(accepted["id"]) > int(created["id"])

        started = time.monotonic()
        proc.terminate()  # streams are open: the worker ends them instead of waiting for them
        proc.wait(timeout=25)
        assert time.monotonic() - started < 10
        dev.close()
        again.close()


def test_the_listener_reconnects_and_tells_clients_to_replay(db_url):
    hub = live.Hub(db_url, poll_seconds=0.05)
    sub = hub.subscribe(["session_requests"])
    try:
        with psycopg.connect(db_url, autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = 'ssr-live' AND datname = current_database()").fetchall()
            assert killed == [(True,)]
            assert sub.queue.get(timeout=20) == live.RESYNC  # LISTENing again: replay now
            admin.execute("NOTIFY session_requests, '{\"outbox_id\": 7}'")
            assert sub.queue.get(timeout=20) == (7, '{"outbox_id": 7}')
    finally:
        hub.close()
    assert sub.queue.get(timeout=5) == live.CLOSE  # the worker is stopping: streams end


def test_booking_works_with_a_plain_http_client_and_no_javascript(app_config, seeded_conn):
    """Cookies and forms only, over real HTTP (urllib): sign in, book, land on Stripe Checkout."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def post(url: str, fields: dict):
        data = urllib.parse.urlencode(fields).encode()
        try:
            opener.open(urllib.request.Request(url, data=data, method="POST"))  # noqa: S310 - local server
        except urllib.error.HTTPError as exc:  # the 303 is not followed
            return exc.code, exc.headers.get("Location")
        raise AssertionError("expected a redirect")

    with serve(app_config, workers=1) as (base, fake, _proc):
        page = opener.open(base + "/account/sign-in").read().decode()
        status, location = post(base + "/account/sign-in", {"token": auth()["Authorization"][7:], "csrf_token": csrf(page)})
        assert (status, location) == (303, "/workshops/")
        directory = opener.open(base + "/workshops/").read().decode()
        assert f'href="/workshops/{AUTOPRO}/book"' in directory
        form = opener.open(f"{base}/workshops/{AUTOPRO}/book").read().decode()
        status, location = post(f"{base}/workshops/{AUTOPRO}/book",
                                {"plan": "video15", "routing_type": "workshop_only", "csrf_token": csrf(form)})
        assert status == 303 and location.startswith(fake.url + "/c/pay/cs_test_")
        cs_id = location.rsplit("/", 1)[1]
        assert seeded_conn.execute("SELECT routing_type, preferred_workshop_id::text FROM checkout_purchases "
                                   "WHERE stripe_checkout_session_id = %s", (cs_id,)).fetchone() == (
            "workshop_only", AUTOPRO)
