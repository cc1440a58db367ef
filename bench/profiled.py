"""A WSGI application (the app, or the reference handler) under cProfile, for the benchmark's
profile of a webhook delivery: `gunicorn bench.profiled:application` with BENCH_PROFILE_TARGET
= "app" (app.wsgi:app) or "reference" (bench.reference_webhook:application), one worker.

Every request except GET /healthz runs under a per-thread cProfile.Profile (enabled around the
call and the reading of the answer; wall time), and its total wall time is counted. GET
/__bench_profile answers the summary as JSON: per delivery, the wall time, and when profiled the
inclusive time of the parts (PARTS) and the functions of most own time; then resets, and profiles
the next requests unless asked with ?off (then only their wall time is counted, without the
profiler's overhead). Only for measurements: never in the app.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import threading
import time

# part -> (file suffix, function name) of the functions whose inclusive time is the part, per target.
PARTS = {
    "signature check (stripe.WebhookSignature.verify_header)": {
        "app": [("_webhook.py", "verify_header")], "reference": [("_webhook.py", "verify_header")]},
    "Checkout Session re-fetch (StripeClient.raw_request)": {
        "app": [("_stripe_client.py", "raw_request")], "reference": [("_stripe_client.py", "raw_request")]},
    "database call (app.db.call / record_purchase)": {
        "app": [("app/db.py", "call")], "reference": [("reference_webhook.py", "record_purchase")]},
    "  of which: pool checkout (getconn, with the pool's check of the connection)": {
        "app": [("psycopg_pool/pool.py", "getconn")], "reference": [("psycopg_pool/pool.py", "getconn")]},
    "  of which: statements sent and answered (Cursor.execute, the pool's check included)": {
        "app": [("psycopg/cursor.py", "execute")], "reference": [("psycopg/cursor.py", "execute")]},
    "log lines (logging.Logger._log)": {
        "app": [("logging/__init__.py", "_log")], "reference": [("logging/__init__.py", "_log")]},
    "JSON answer (flask.jsonify / json.dumps)": {
        "app": [("flask/json/__init__.py", "jsonify")], "reference": [("reference_webhook.py", "_answer")]},
}
TOTAL = "whole request (the WSGI call and its answer)"

TARGET = os.environ.get("BENCH_PROFILE_TARGET", "app")
_target = []


def _inner(environ, start_response):
    """The profiled application, imported on first use (so that importing this module, as the
    benchmark does for PARTS and TOTAL, starts no app)."""
    if not _target:
        if TARGET == "reference":
            from bench.reference_webhook import application
        else:
            from app.wsgi import app as application
        _target.append(application)
    return _target[0](environ, start_response)

_local = threading.local()
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()
_count = [0, 0.0]  # requests, their total wall seconds
_generation = [0]  # a summary starts a new one: every thread's next request gets a new profile
_enabled = [True]


def _profile() -> cProfile.Profile:
    p = getattr(_local, "p", None)
    if p is None or _local.generation != _generation[0]:
        p = _local.p = cProfile.Profile()
        with _lock:
            _local.generation = _generation[0]
            _profiles.append(p)
    return p


def summary(enable: bool) -> dict:
    with _lock:
        profiles, n, wall = list(_profiles), _count[0], _count[1]
        _profiles.clear()
        _count[:] = [0, 0.0]
        _generation[0] += 1
        was = _enabled[0]
        _enabled[0] = enable
    if not n:
        return {"requests": 0}
    if not was or not profiles:
        return {"target": TARGET, "requests": n, "profiled": False, "wall_ms": round(wall * 1000 / n, 4)}
    for p in profiles:
        p.create_stats()
    st = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        st.add(p)
    stats = st.stats  # (file, line, name) -> (primitive calls, calls, own time, inclusive time, callers)

    def inclusive(specs) -> float:
        return sum(ct for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items()
                   if any(file.endswith(suffix) and name == fn for suffix, fn in specs))

    parts = {part: round(inclusive(specs[TARGET]) * 1000 / n, 4) for part, specs in PARTS.items()}
    parts[TOTAL] = round(wall * 1000 / n, 4)
    top = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    return {
        "target": TARGET, "requests": n, "profiled": True, "wall_ms": parts[TOTAL], "parts_ms": parts,
        "top_own_time": [{"function": f"{os.path.basename(file)}:{line} {name}", "own_ms": round(tt * 1000 / n, 4),
                          "calls": round(nc / n, 2)} for (file, line, name), (_cc, nc, tt, _ct, _c) in top],
    }


def application(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/__bench_profile":
        data = json.dumps(summary(enable="off" not in (environ.get("QUERY_STRING") or ""))).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
    if path == "/healthz":
        return _inner(environ, start_response)
    p = _profile() if _enabled[0] else None
    t0 = time.perf_counter()
    if p:
        p.enable()
    try:
        body = b"".join(_inner(environ, start_response))
    finally:
        if p:
            p.disable()
        dt = time.perf_counter() - t0
        with _lock:
            _count[0] += 1
            _count[1] += dt
    return [body]
