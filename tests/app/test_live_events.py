"""The mechanic's live feed over real HTTP under gunicorn: events pushed from the database's
notifications, replay after a reconnect (Last-Event-ID), heartbeats, a cap per worker, a
stop that does not wait for the streams, and the listener's recovery from a lost connection.
Also the booking path with a plain HTTP client (no JavaScript, no browser)."""

from __future__ import annotations

import http.cookiejar
import json
import queue
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import psycopg
import pytest

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


def test_the_listener_reconnects_and_reads_what_it_missed_from_the_outbox(seeded_conn, app_db_url):
    """Behaviour changed on purpose: a notification is only a wake-up. After a lost connection the
    hub reads the outbox from its position (no RESYNC for every stream to replay on its own), and
    what it delivers is the outbox row, never a notification's payload."""
    hub = live.Hub(app_db_url, poll_seconds=0.05)
    sub = hub.subscribe(["session_requests"])
    others = [hub.subscribe(["session_requests"]) for _ in range(2)]
    try:
        start = hub.position
        killed = seeded_conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE application_name = 'ssr-live' AND datname = current_database()").fetchall()
        assert killed == [(True,)]
        missed = paid_request(seeded_conn, "broadcast", None)  # written while the hub is away
        outbox_id, data = sub.queue.get(timeout=20)
        assert json.loads(data)["request_id"] == missed and json.loads(data)["outbox_id"] == outbox_id > start
        seeded_conn.execute("NOTIFY session_requests, '{\"outbox_id\": 999999999}'")  # not in the outbox
        with pytest.raises(queue.Empty):
            sub.queue.get(timeout=1.5)
        assert hub.position == outbox_id
        # One wake-up, one outbox read, however many streams: all three get the new row.
        for other in others:
            assert other.queue.get(timeout=5)[0] == outbox_id
        reads = hub.reads
        woken = paid_request(seeded_conn, "broadcast", None)
        seeded_conn.execute("NOTIFY session_requests")  # as the relay would (no relay runs here)
        got = [s.queue.get(timeout=20) for s in (sub, *others)]
        assert {json.loads(data)["request_id"] for _, data in got} == {woken}
        assert hub.reads == reads + 1
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


def preamble(client: SSEClient) -> str | None:
    """The `id:` a stream starts at (its first lines, up to `: connected`), or None."""
    start = None
    while True:
        line = client.response.fp.readline().decode().rstrip("\r\n")
        if line.startswith("id: "):
            start = line[4:]
        if line == ": connected":
            return start


def events_until_quiet(client: SSEClient) -> list[dict]:
    """Every event sent before the next heartbeat (the replay, when the stream just opened)."""
    got, fields = [], {}
    while True:
        line = client.response.fp.readline().decode().rstrip("\r\n")
        if line == ": heartbeat":
            return got
        if line == "" and "data" in fields:
            got.append({**fields, "json": json.loads(fields["data"])})
            fields = {}
        elif line and not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def test_a_forged_notification_reaches_no_stream_and_moves_no_position(app_config, seeded_conn, db_url, bi_db_url):
    """Any login may NOTIFY: here the BI login ssr_bi (SELECT on the analytics views only), in a
    read-only transaction. Its event reaches nobody and does not move where streams start;
    a real offer afterwards still arrives, and replays after a reconnect."""
    with serve(app_config, workers=1, relay_url=db_url, SSE_HEARTBEAT_SECONDS="0.5") as (base, _fake, _proc):
        ana = SSEClient(base, headers=auth(ANA, "mechanic"))
        assert ana.status == 200
        start = preamble(ana)
        fake_request = str(uuid.uuid4())
        with psycopg.connect(bi_db_url) as forger:
            assert forger.execute("SHOW transaction_read_only").fetchone() == ("on",)
            forger.execute("SELECT pg_notify('session_requests', %s)",
                           (json.dumps({"outbox_id": 999999999, "event": "created", "request_id": fake_request}),))
            forger.commit()
        with pytest.raises(TimeoutError):
            ana.next_event(deadline_seconds=2)  # heartbeats only: nothing was sent
        # A new stream starts where the outbox is, not at the forged id.
        bob = SSEClient(base, headers=auth(BEN, "mechanic"))
        assert bob.status == 200
        assert int(preamble(bob) or 0) < 999999999
        bob.close()

        real = paid_request(seeded_conn, "broadcast", None)
        offer = ana.until(lambda n: n["request_id"] == real)
        assert offer["json"]["event"] == "created" and int(offer["id"]) > int(start or 0)
        ana.close()
        again = SSEClient(base, headers={**auth(ANA, "mechanic"), "Last-Event-ID": str(int(offer["id"]) - 1)})
        assert again.status == 200
        replayed = events_until_quiet(again)
        assert [e["json"]["request_id"] for e in replayed if e["id"] == offer["id"]] == [real]
        assert fake_request not in {e["json"]["request_id"] for e in replayed}
        again.close()


def test_global_events_name_nobody_and_a_replay_from_zero_is_bounded(app_config, seeded_conn, db_url):
    """Every mechanic hears the global channel: "request X is taken", never by whom. A replay from
    Last-Event-ID 0 is the last 15 minutes of what this mechanic may see, not the history."""
    with serve(app_config, workers=1, relay_url=db_url, SSE_HEARTBEAT_SECONDS="0.5") as (base, _fake, _proc):
        dev = SSEClient(base, headers=auth(DEV, "mechanic"))  # City Auto
        assert dev.status == 200
        broadcast = paid_request(seeded_conn, "broadcast", None)
        assert dev.until(lambda n: n["request_id"] == broadcast)["json"]["event"] == "created"
        seeded_conn.execute(ACCEPT_AS, (broadcast, BEN))  # taken by AutoPro's Ben
        taken = dev.until(lambda n: n["request_id"] == broadcast and n["event"] == "accepted")
        assert taken["json"]["status"] == "accepted"
        assert not {"mechanic_id", "workshop_id"} & set(taken["json"]), taken["json"]
        dev.close()
        # The outbox itself (what the relay NOTIFYs, which any login may LISTEN to) names nobody either.
        payloads = seeded_conn.execute("SELECT payload FROM routing_outbox WHERE channel = 'session_requests'").fetchall()
        assert payloads and not any({"mechanic_id", "workshop_id"} & set(p) for (p,) in payloads)

        # History: an hour-old row, and AutoPro's hybrid request inside its window (not City Auto's).
        old = seeded_conn.execute(
            "INSERT INTO routing_outbox (channel, request_id, event_type, payload, created_at) "
            "SELECT 'session_requests', id, 'created', '{\"event\": \"created\"}', now() - interval '1 hour' "
            "FROM session_requests WHERE id = %s RETURNING id", (broadcast,)).fetchone()[0]
        hybrid = paid_request(seeded_conn, "hybrid")
        fresh = paid_request(seeded_conn, "broadcast", None)
        total = seeded_conn.execute("SELECT count(*) FROM routing_outbox").fetchone()[0]
        replay = SSEClient(base, headers={**auth(DEV, "mechanic"), "Last-Event-ID": "0"})
        assert replay.status == 200
        got = events_until_quiet(replay)
        ids = {int(e["id"]) for e in got}
        seen = {e["json"]["request_id"] for e in got}
        assert old not in ids and hybrid not in seen and fresh in seen
        assert len(got) < total
        assert not any({"mechanic_id", "workshop_id"} & set(e["json"]) for e in got)
        replay.close()


def test_one_mechanic_cannot_hold_every_stream(app_config, seeded_conn):
    with serve(app_config, workers=1, SSE_MAX_STREAMS_PER_MECHANIC="2", SSE_MAX_CLIENTS="10") as (base, _f, _p):
        mine = [SSEClient(base, headers=auth(ANA, "mechanic")) for _ in range(2)]
        assert [c.status for c in mine] == [200, 200]
        third = SSEClient(base, headers={**auth(ANA, "mechanic"), "Accept": "application/json"})
        assert third.status == 429 and third.response.getheader("Retry-After") == "5"
        body = json.loads(third.response.read())
        assert body["ok"] is False and body["error"]["code"] == "too_many_streams"
        other = SSEClient(base, headers=auth(BEN, "mechanic"))  # another mechanic still gets one
        assert other.status == 200
        for c in [*mine, third, other]:
            c.close()
