"""The app under gunicorn for a measurement: started on a free local port with the given
environment, its log in a file (an unread pipe would fill up and block the workers), ready
once GET /healthz answers 200, stopped with TERM (then KILL after 15 s). The settings are
gunicorn.conf.py's (gunicorn reads it from the project's folder) for whatever WSGI application
it serves: the app, or the benchmark's reference webhook handler."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornApp:
    def __init__(self, env: dict, workers: int, extra_args: tuple[str, ...] = (), log_prefix: str = "ssr-bench-gunicorn-",
                 wsgi: str = "app.wsgi:app"):
        self.port = free_port()
        self.workers = workers
        env = dict(os.environ, PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}", POOL_MIN_SIZE="1",
                   POOL_MAX_SIZE="4", **{"SECRET_KEY": secrets.token_urlsafe(32), **env})
        exe = Path(sys.executable).with_name("gunicorn")
        cmd = [str(exe) if exe.exists() else "gunicorn", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(workers), *extra_args, "--log-level", "warning", wsgi]
        self.log = tempfile.NamedTemporaryFile(prefix=log_prefix, suffix=".log", delete=False)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def log_tail(self, n: int = 800) -> str:
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-n:]

    def wait_ready(self, timeout: float = 30.0, error: type[Exception] = RuntimeError) -> None:
        """Until GET /healthz answers 200; `error` when gunicorn exits or the time is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise error(f"gunicorn exited ({self.proc.returncode}): {self.log_tail(400)}")
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                c.request("GET", "/healthz")
                resp = c.getresponse()
                resp.read()
                if resp.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                c.close()
            time.sleep(0.1)
        raise error("gunicorn did not answer /healthz in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)
