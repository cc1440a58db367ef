"""gunicorn settings for the app (gunicorn reads ./gunicorn.conf.py by itself; `make run` passes it
with -c; command-line flags such as `make run`'s --bind and --workers override these).

Every limit of the HTTP server lives here.

- Worker class: gthread. The mechanic dashboard holds a Server-Sent Events stream open per
  browser, and a stream occupies one thread for its life; with threads the other threads of
  the same worker keep answering the API meanwhile. Each worker runs GUNICORN_THREADS threads
  and accepts at most SSE_MAX_CLIENTS streams (answering 503 past it), so at least
  SSE_RESERVED_THREADS threads always remain for the API (make bench measures it with
  200 connected clients).
- timeout: a worker whose main loop is silent for this long is killed and replaced. It stays above
  the longest a request may legitimately take: the app's statement_timeout + pool wait (a 503 with
  Retry-After comes first) and a Stripe call (STRIPE_TIMEOUT per attempt, 3 attempts). Checked below.
- limit_request_line / limit_request_field_size / limit_request_fields: gunicorn refuses past these
  with its own plain-text answer, before the app. They are set above the app's own limits
  (app/inputs.py: request line 4096 bytes, header field 8190, all headers 32 KiB), so requests in
  between get the app's JSON 414/431. 8190 is gunicorn's maximum request line.
- Bodies: gunicorn has no timeout for reading a request body; the app bounds each read of the socket
  (BODY_READ_TIMEOUT, 10 s: 408 and the connection closed, app/inputs.py). The total time of a
  client that trickles bytes, and connections per client, are a reverse proxy's to bound
  (docs/OPERATIONS.md, "In front of the app").
- Logs: gunicorn's error and access logs and the app's loggers on stderr, one line each, JSON lines
  with LOG_FORMAT=json (app/logs.py).
"""

import os
import signal

from app.logs import gunicorn_logconfig

workers = int(os.environ.get("WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "128"))
_reserved = int(os.environ.get("SSE_RESERVED_THREADS") or max(4, threads // 8))
os.environ.setdefault("SSE_MAX_CLIENTS", str(max(threads - _reserved, 1)))
# A stream's thread is busy for its whole life; idle keep-alive connections are not.
worker_connections = 1000

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "45"))
graceful_timeout = 20
keepalive = 5

limit_request_line = 8190
limit_request_field_size = 16380
limit_request_fields = 100

# No control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) is shared by every gunicorn of
# the user, so `gunicornc` could reach another instance (tests, another checkout) than this one.
control_socket_disable = True

logconfig_dict = gunicorn_logconfig()
accesslog = "-"

_db_worst = (int(os.environ.get("STATEMENT_TIMEOUT_MS", "5000")) / 1000 + float(os.environ.get("POOL_TIMEOUT", "5"))) * 2
_stripe_worst = float(os.environ.get("STRIPE_TIMEOUT", "5")) * 3 + 3  # 3 attempts and their backoff
if timeout <= _db_worst + _stripe_worst:
    raise RuntimeError(
        f"GUNICORN_TIMEOUT={timeout} must exceed two database calls ({_db_worst:g} s at worst) and a Stripe call "
        f"({_stripe_worst:g} s): lower STATEMENT_TIMEOUT_MS, POOL_TIMEOUT or STRIPE_TIMEOUT, or raise it"
    )


def post_worker_init(worker):
    """On SIGTERM/SIGINT/SIGQUIT, end this worker's event streams first, so a graceful stop
    or restart does not wait graceful_timeout for connections that never end by themselves
    (browsers reconnect to another worker and replay what they missed)."""
    from app import live

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(sig)

        def handler(signum, frame, previous=previous):
            live.close_all()
            if callable(previous):
                previous(signum, frame)

        signal.signal(sig, handler)
