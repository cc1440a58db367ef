"""/api/mechanic: what a mechanic sees. GET /requests: the offers routed to them now
(get_mechanic_offers). GET /events: their live feed, Server-Sent Events of the routing
outbox rows on the channels that carry the requests this mechanic may be offered
(get_mechanic_channels); the dashboard (app/pages/mechanic.py) listens to it.

The stream is fed by the gunicorn worker process's hub (app/live.py): one LISTEN connection,
woken by the notifications, reading the outbox once per wake-up for every stream of the
process. Each event is one outbox row: `id:` its outbox id, `data:` its JSON (event,
request_id, ...; on the global channel never who accepted it). A client that reconnects sends
`Last-Event-ID` (browsers do it by themselves; or `?last_event_id=`) and first gets what it
missed (get_mechanic_events: at most 15 minutes back, only requests offered to this mechanic
now or accepted by them; the dashboard reloads its offers when a stream opens anyway).
Outbox ids are taken when a row is written and transactions commit in any order, so the
replay starts REPLAY_OVERLAP ids earlier: an event may come twice (the page ignores an id it
has seen), never not at all. Comments every SSE_HEARTBEAT_SECONDS keep proxies and the
client's connection alive; a stream ends after SSE_MAX_SECONDS (the browser reconnects and
the token is checked again). Past SSE_MAX_CLIENTS streams in this process: 503, so the
threads left keep serving the API; past SSE_MAX_STREAMS_PER_MECHANIC streams of one mechanic
in this process: 429, so one mechanic cannot hold them all.

Presence: each keep-alive of a stream is also the dashboard's heartbeat (mechanic_heartbeat,
which writes last_seen_at at most every presence_heartbeat_write_seconds); when the engine
took the mechanic away (too many timed-out offers, or no heartbeat within the grace period)
the stream sends a named event `presence` (`event: presence`, data: online, away_reason,
away_at, last_seen_at, live_offers), which the page's plain message handler never sees.
GET /presence (get_mechanic_presence), POST /presence {"online": bool} (set_mechanic_presence:
come back, or go offline) and POST /heartbeat (mechanic_heartbeat, for a dashboard without a
stream) are the same in plain JSON."""

from __future__ import annotations

import json
import queue
import re
import time

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from app import live
from app.auth import role_required
from app.db import call
from app.errors import ApiError
from app.inputs import int_param, json_object, only_params

bp = Blueprint("mechanic", __name__, url_prefix="/api/mechanic")
REPLAY_OVERLAP = 100


@bp.get("/requests")
@role_required("mechanic")
def mechanic_requests():
    only_params("limit")
    limit = int_param("limit", 50, 1, 200)
    rows = call("SELECT * FROM get_mechanic_offers(%s, %s)", (g.principal.sub, limit), many=True, path_ids=True,
                acting_mechanic=g.principal.sub)
    return jsonify(ok=True, requests=rows)


@bp.get("/presence")
@role_required("mechanic")
def mechanic_presence():
    only_params()
    row = call("SELECT * FROM get_mechanic_presence(%s)", (g.principal.sub,), path_ids=True,
               acting_mechanic=g.principal.sub)
    return jsonify(ok=True, presence=row)


@bp.post("/presence")
@role_required("mechanic")
def set_presence():
    online = json_object("online").get("online")
    if not isinstance(online, bool):
        raise ApiError(400, "invalid_input", "online must be true or false", "online")
    row = call("SELECT * FROM set_mechanic_presence(%s, %s)", (g.principal.sub, online), path_ids=True,
               acting_mechanic=g.principal.sub)
    return jsonify(ok=True, presence=row)


@bp.post("/heartbeat")
@role_required("mechanic")
def heartbeat():
    json_object(required=False)  # no fields
    row = call("SELECT * FROM mechanic_heartbeat(%s)", (g.principal.sub,), path_ids=True,
               acting_mechanic=g.principal.sub)
    return jsonify(ok=True, presence=row)


def _presence_event(row: dict) -> str:
    data = {"event": "presence", **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}}
    data["mechanic_id"] = str(data["mechanic_id"])
    return f"event: presence\ndata: {json.dumps(data)}\n\n"


def _last_event_id() -> int | None:
    """The header (browsers send it on reconnect), else the query's; each must be an outbox id
    (at most 18 digits: a bigint, as routing_outbox_replay takes it) or empty (none)."""
    given = {"Last-Event-ID": request.headers.get("Last-Event-ID"), "last_event_id": request.args.get("last_event_id")}
    for name, raw in given.items():
        if raw and not re.fullmatch(r"[0-9]{1,18}", raw):
            raise ApiError(400, "invalid_input", f"{name} must be an outbox id", name)
    raw = given["Last-Event-ID"] or given["last_event_id"]
    return int(raw) if raw else None


def _event(outbox_id: int, payload: str) -> str:
    return f"id: {outbox_id}\ndata: {payload}\n\n"


@bp.get("/events")
@role_required("mechanic")
def events():
    mechanic = g.principal.sub
    last = _last_event_id()
    cfg = current_app.config
    hub = current_app.extensions["live"].get()
    if hub.client_count() >= cfg["SSE_MAX_CLIENTS"]:
        raise ApiError(503, "busy", "too many live connections on this server, retry later",
                       headers={"Retry-After": "5"})
    channels = call("SELECT get_mechanic_channels(%s) AS channels", (mechanic,), path_ids=True,
                    acting_mechanic=mechanic)["channels"]
    try:
        # LISTENing before the replay: nothing falls in between
        sub = hub.subscribe(channels, owner=str(mechanic))
    except live.TooMany as exc:
        raise ApiError(429, "too_many_streams",
                       f"at most {cfg['SSE_MAX_STREAMS_PER_MECHANIC']} live streams per mechanic, close one",
                       headers={"Retry-After": "5"}) from exc
    except live.Unavailable as exc:
        raise ApiError(503, "database_unavailable", "live updates are unavailable, retry later",
                       headers={"Retry-After": "5"}) from exc

    def replay(after: int) -> list:
        return call("SELECT id, data FROM get_mechanic_events(%s, %s)", (mechanic, max(after - REPLAY_OVERLAP, 0)),
                    many=True, acting_mechanic=mechanic)

    try:
        backlog = replay(last) if last is not None else []
    except Exception:
        hub.unsubscribe(sub)
        raise
    heartbeat, max_seconds = cfg["SSE_HEARTBEAT_SECONDS"], cfg["SSE_MAX_SECONDS"]

    def stream():
        seen: dict[int, None] = {}  # recent ids sent, oldest first (replay and live overlap)
        newest = last or hub.position  # where the hub's outbox reads are: never from a payload

        def send(outbox_id: int, data: str) -> str:
            nonlocal newest
            if outbox_id in seen:
                return ""
            seen[outbox_id] = None
            if len(seen) > 4 * REPLAY_OVERLAP:
                del seen[next(iter(seen))]
            newest = max(newest, outbox_id)
            return _event(outbox_id, data)

        try:
            first = "retry: 2000\n"
            if newest:  # so a reconnect replays from here even when nothing was sent yet
                first += f"id: {newest}\n"
            yield first + ": connected\n\n"
            for row in backlog:
                chunk = send(row["id"], row["data"])
                if chunk:
                    yield chunk
            deadline = time.monotonic() + max_seconds
            told = None  # the presence the stream last told: (online, away_reason)
            while time.monotonic() < deadline:
                try:
                    item = sub.queue.get(timeout=heartbeat)
                except queue.Empty:
                    try:  # the keep-alive is the dashboard's heartbeat; a failed one is not the stream's end
                        row = call("SELECT * FROM mechanic_heartbeat(%s)", (mechanic,), acting_mechanic=mechanic)
                    except Exception:  # the database's trouble: the next keep-alive retries
                        row = None
                    if row is not None:
                        state = (row["online"], row["away_reason"])
                        if state != told and (told is not None or row["away_reason"] is not None):
                            yield _presence_event(row)
                        told = state
                    yield ": heartbeat\n\n"
                    continue
                if item == live.CLOSE:
                    return
                chunk = send(*item)
                if chunk:
                    yield chunk
        finally:
            hub.unsubscribe(sub)

    return Response(stream_with_context(stream()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
