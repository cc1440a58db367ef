"""Routing notifications pushed to browsers: one LISTEN connection per gunicorn worker process,
fanned out to that process's Server-Sent Events clients through in-process queues.

Every routing change writes routing_outbox rows; ssr_private.routing_outbox_relay() (the worker) sends the committed
ones with pg_notify on their channels (docs/ROUTING.md): the background worker (`python -m
worker`, its job `relay`) runs it every 100 ms and is its only caller. The hubs only read. A
Hub (one per process, opened on first use, so a pre-forking server gets one per gunicorn
worker) holds one psycopg connection that LISTENs on the channels its clients need (added as
clients come, never more than the distinct channels asked for).

A notification is only a wake-up: any login may NOTIFY any channel, so its payload is never
trusted. Woken, the hub reads the outbox once (routing_outbox_feed: the rows of its channels
after its position, for every stream of the process at once) and puts each row into the queue
of every client subscribed to the row's channel; its position (`position`, where a new stream
starts) only moves by what it read. An event that is not in the outbox reaches nobody. Ids are
taken before their transactions commit, in any order, so each read also looks READ_OVERLAP ids
below the position, skipping the ids it already delivered. If the connection drops, the hub
reconnects, LISTENs again and reads from its position: the streams get what they missed.

A mechanic may hold at most SSE_MAX_STREAMS_PER_MECHANIC streams in one process (`owner` of
subscribe; TooMany past it): the cap is per process, as the streams are.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

CLOSE = "close"  # queue message: the process is stopping, end the stream
READ_OVERLAP = 100  # ids below the position read again (late commits), the ones delivered skipped
READ_BATCH = 500  # rows per outbox read (a catch-up reads several)
MIN_READ_GAP = 0.02  # seconds between two reads: a burst of notifications is one read

_hubs: weakref.WeakSet = weakref.WeakSet()


class Unavailable(RuntimeError):
    """The hub could not LISTEN in time (database down)."""


class TooMany(RuntimeError):
    """This owner (a mechanic) already has its most streams in this process."""


class Subscriber:
    def __init__(self, channels: tuple[str, ...], owner=None):
        self.channels = channels
        self.owner = owner
        self.queue: queue.SimpleQueue = queue.SimpleQueue()


class Hub:
    def __init__(self, conninfo: str, poll_seconds: float = 0.2, max_per_owner: int | None = None):
        self._conninfo = conninfo
        self._poll = poll_seconds
        self._max_per_owner = max_per_owner
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._subs: dict[str, set[Subscriber]] = {}
        self._owners: dict[object, int] = {}
        self._listening: set[str] = set()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.position = 0  # the highest outbox id this hub has read (0: none read yet)
        self._start: int | None = None  # the head when the hub first listened: older rows are not live
        self._delivered: set[int] = set()  # ids read above position - READ_OVERLAP
        self.reads = 0  # outbox reads made (tests, make bench)
        _hubs.add(self)

    # --- clients ---------------------------------------------------------------------------
    def subscribe(self, channels, timeout: float = 5.0, owner=None) -> Subscriber:
        """A subscriber whose channels are LISTENed to when this returns (Unavailable if the
        database does not let us in time; TooMany past max_per_owner streams of one owner)."""
        sub = Subscriber(tuple(channels), owner)
        with self._changed:
            if self._stopping:
                raise Unavailable("stopping")
            if owner is not None and self._max_per_owner is not None:
                if self._owners.get(owner, 0) >= self._max_per_owner:
                    raise TooMany(owner)
                self._owners[owner] = self._owners.get(owner, 0) + 1
            for ch in sub.channels:
                self._subs.setdefault(ch, set()).add(sub)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ssr-live-listener", daemon=True)
                self._thread.start()
            ok = self._changed.wait_for(lambda: set(sub.channels) <= self._listening or self._stopping,
                                        timeout=timeout)
        if not ok or self._stopping:
            self.unsubscribe(sub)
            raise Unavailable("the notification listener is not connected")
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            removed = False
            for ch in sub.channels:
                subs = self._subs.get(ch)
                if subs is not None and sub in subs:
                    subs.discard(sub)
                    removed = True
            if removed and sub.owner is not None and sub.owner in self._owners:
                self._owners[sub.owner] -= 1
                if self._owners[sub.owner] <= 0:
                    del self._owners[sub.owner]

    def client_count(self) -> int:
        with self._lock:
            return len({s for subs in self._subs.values() for s in subs})

    def close(self) -> None:
        """End every client's stream (the worker is stopping) and the listener."""
        with self._changed:
            self._stopping = True
            subs = {s for subs in self._subs.values() for s in subs}
            self._changed.notify_all()
        for s in subs:
            s.queue.put(CLOSE)

    # --- the listening connection ----------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                with psycopg.connect(self._conninfo, autocommit=True, application_name="ssr-live") as conn:
                    with self._lock:
                        self._listening = set()
                    backoff = 0.2
                    self._serve(conn)
            except psycopg.Error as exc:
                with self._lock:
                    self._listening = set()
                if self._stopping:
                    break
                log.warning("live: listening connection lost (%s); reconnecting in %.1f s", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _serve(self, conn: psycopg.Connection) -> None:
        catch_up = True  # (re)connected: read what came while we were not listening
        last_read = 0.0
        while not self._stopping:
            with self._lock:
                missing = [ch for ch, subs in self._subs.items() if subs and ch not in self._listening]
            for ch in missing:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(ch)))
            if self._start is None:  # the first LISTEN: live starts at the outbox's head
                head = conn.execute("SELECT id FROM routing_outbox_feed(NULL, NULL)").fetchone()[0]
                self._start = self.position = head
                catch_up = False
            if missing:
                with self._changed:
                    self._listening.update(missing)
                    self._changed.notify_all()
            woken = catch_up
            catch_up = False
            if not woken:
                for _n in conn.notifies(timeout=self._poll, stop_after=1):
                    woken = True  # whatever it says: only the outbox is read
            if woken:
                gap = MIN_READ_GAP - (time.monotonic() - last_read)
                if gap > 0:
                    time.sleep(gap)
                for _n in conn.notifies(timeout=0):
                    pass  # the ones that came meanwhile: this read covers them
                self._read(conn)
                last_read = time.monotonic()

    def _read(self, conn: psycopg.Connection) -> None:
        """Read the outbox after the position for every channel listened to, deliver each new row
        to the subscribers of its channel, move the position to the highest id read."""
        with self._lock:
            channels = sorted(self._listening)
        if not channels:
            return
        after = max(self.position - READ_OVERLAP, self._start or 0)
        while True:
            skip = sorted(i for i in self._delivered if i > after)
            rows = conn.execute("SELECT id, channel, data FROM routing_outbox_feed(%s, %s, %s, %s)",
                                (after, channels, skip, READ_BATCH)).fetchall()
            self.reads += 1
            for outbox_id, channel, data in rows:
                self._delivered.add(outbox_id)
                self.position = max(self.position, outbox_id)
                with self._lock:
                    subs = list(self._subs.get(channel, ()))
                for s in subs:
                    s.queue.put((outbox_id, data))
            if len(rows) < READ_BATCH:
                break
            after = rows[-1][0]
        floor = self.position - READ_OVERLAP
        self._delivered = {i for i in self._delivered if i > floor}


def close_all() -> None:
    """Close every hub of this process (a gunicorn worker told to stop: streams end at once)."""
    for hub in list(_hubs):
        hub.close()


class LazyHub:
    """One Hub per process, created on first use (after gunicorn forked the worker)."""

    def __init__(self, conninfo: str, max_per_owner: int | None = None):
        self._conninfo = conninfo
        self._max_per_owner = max_per_owner
        self._hub: Hub | None = None
        self._lock = threading.Lock()

    def get(self) -> Hub:
        if self._hub is None:
            with self._lock:
                if self._hub is None:
                    self._hub = Hub(self._conninfo, max_per_owner=self._max_per_owner)
        return self._hub

    def close(self) -> None:
        with self._lock:
            if self._hub is not None:
                self._hub.close()
                self._hub = None


def init_app(app) -> None:
    """SSE_MAX_STREAMS_PER_MECHANIC (default 3; from the app's config, else the environment):
    streams one mechanic may hold open in one process."""
    raw = app.config.get("SSE_MAX_STREAMS_PER_MECHANIC", os.environ.get("SSE_MAX_STREAMS_PER_MECHANIC", "3"))
    app.config["SSE_MAX_STREAMS_PER_MECHANIC"] = per_mechanic = int(raw)
    if per_mechanic < 1:
        from app import ConfigError

        raise ConfigError("refusing to start: SSE_MAX_STREAMS_PER_MECHANIC must be at least 1")
    app.extensions["live"] = LazyHub(app.config["DATABASE_URL"], max_per_owner=per_mechanic)
