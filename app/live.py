"""Routing notifications pushed to browsers: one LISTEN connection per gunicorn worker process,
fanned out to that process's Server-Sent Events clients through in-process queues.

Every routing change writes routing_outbox rows; ssr_private.routing_outbox_relay() (the worker) sends the committed
ones with pg_notify on their channels (docs/ROUTING.md): the background worker (`python -m
worker`, its job `relay`) runs it every 100 ms and is its only caller. The hubs only read. A
Hub (one per process, opened on first use, so a pre-forking server gets one per gunicorn
worker) holds one psycopg connection that LISTENs on the channels its clients need (added as
clients come, never more than the distinct channels asked for) and puts each notification into
the queue of every client subscribed to that channel. If the connection drops, the hub
reconnects, LISTENs again and tells every client to replay from the outbox
(routing_outbox_replay), so nothing is lost in between.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import weakref

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

RESYNC = "resync"  # queue message: the listening connection was re-established, replay
CLOSE = "close"  # queue message: the process is stopping, end the stream

_hubs: weakref.WeakSet = weakref.WeakSet()


class Unavailable(RuntimeError):
    """The hub could not LISTEN in time (database down)."""


class Subscriber:
    def __init__(self, channels: tuple[str, ...]):
        self.channels = channels
        self.queue: queue.SimpleQueue = queue.SimpleQueue()


class Hub:
    def __init__(self, conninfo: str, poll_seconds: float = 0.2):
        self._conninfo = conninfo
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._subs: dict[str, set[Subscriber]] = {}
        self._listening: set[str] = set()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.last_outbox_id = 0  # the highest outbox id this process has seen
        _hubs.add(self)

    # --- clients ---------------------------------------------------------------------------
    def subscribe(self, channels, timeout: float = 5.0) -> Subscriber:
        """A subscriber whose channels are LISTENed to when this returns (Unavailable if the
        database does not let us in time)."""
        sub = Subscriber(tuple(channels))
        with self._changed:
            if self._stopping:
                raise Unavailable("stopping")
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
            for ch in sub.channels:
                subs = self._subs.get(ch)
                if subs is not None:
                    subs.discard(sub)

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
        first = True
        while not self._stopping:
            try:
                with psycopg.connect(self._conninfo, autocommit=True, application_name="ssr-live") as conn:
                    with self._lock:
                        self._listening = set()
                    backoff = 0.2
                    resync, first = not first, False
                    self._serve(conn, resync=resync)
            except psycopg.Error as exc:
                with self._lock:
                    self._listening = set()
                if self._stopping:
                    break
                log.warning("live: listening connection lost (%s); reconnecting in %.1f s", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _serve(self, conn: psycopg.Connection, resync: bool) -> None:
        while not self._stopping:
            with self._lock:
                missing = [ch for ch, subs in self._subs.items() if subs and ch not in self._listening]
            for ch in missing:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(ch)))
            if missing:
                with self._changed:
                    self._listening.update(missing)
                    self._changed.notify_all()
            if resync:  # LISTENing again: now the clients may replay what they missed
                resync = False
                self._broadcast(RESYNC)
            # The routing transactions only write the outbox (a NOTIFY in them serialized durable
            # commits); the worker's relay sends the rows every 100 ms: here we only listen.
            for n in conn.notifies(timeout=self._poll):
                self._dispatch(n.channel, n.payload)

    def _dispatch(self, channel: str, payload: str) -> None:
        try:
            outbox_id = int(json.loads(payload)["outbox_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("live: notification without outbox_id on %s", channel)
            return
        if outbox_id > self.last_outbox_id:
            self.last_outbox_id = outbox_id
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for s in subs:
            s.queue.put((outbox_id, payload))

    def _broadcast(self, message: str) -> None:
        with self._lock:
            subs = {s for subs in self._subs.values() for s in subs}
        for s in subs:
            s.queue.put(message)


def close_all() -> None:
    """Close every hub of this process (a gunicorn worker told to stop: streams end at once)."""
    for hub in list(_hubs):
        hub.close()


class LazyHub:
    """One Hub per process, created on first use (after gunicorn forked the worker)."""

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._hub: Hub | None = None
        self._lock = threading.Lock()

    def get(self) -> Hub:
        if self._hub is None:
            with self._lock:
                if self._hub is None:
                    self._hub = Hub(self._conninfo)
        return self._hub

    def close(self) -> None:
        with self._lock:
            if self._hub is not None:
                self._hub.close()
                self._hub = None


def init_app(app) -> None:
    app.extensions["live"] = LazyHub(app.config["DATABASE_URL"])
