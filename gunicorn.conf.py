"""gunicorn settings (gunicorn reads ./gunicorn.conf.py by itself; command-line flags such as
`make run`'s --bind and --workers override these).

Worker class: gthread. The mechanic dashboard holds a Server-Sent Events stream open per
browser, and a stream occupies one thread for its life; with threads the other threads of
the same worker keep answering the API meanwhile. Each worker runs GUNICORN_THREADS threads
and accepts at most SSE_MAX_CLIENTS streams (answering 503 past it), so at least
SSE_RESERVED_THREADS threads always remain for the API (make bench measures it with
200 connected clients).
"""

import os
import signal

workers = int(os.environ.get("WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "128"))
_reserved = int(os.environ.get("SSE_RESERVED_THREADS") or max(4, threads // 8))
os.environ.setdefault("SSE_MAX_CLIENTS", str(max(threads - _reserved, 1)))
# A stream's thread is busy for its whole life; idle keep-alive connections are not.
worker_connections = 1000


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
