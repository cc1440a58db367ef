"""The server's own ceiling with pgbench, and pgbench custom scripts for our functions.

Latency percentiles come from pgbench's per-transaction log (-l), so a custom
script and the built-in tpcb-like script are measured the same way.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import psycopg

from bench.cpu import process_cpu
from bench.server import ensure_database, url_for
from bench.stats import percentile

PGBENCH_DB = "ssr_bench_pgbench"


class PgbenchError(RuntimeError):
    pass


def pgbench_bin() -> str:
    for cand in ("/usr/lib/postgresql/15/bin/pgbench", shutil.which("pgbench")):
        if cand and os.path.exists(cand):
            return cand
    raise PgbenchError("pgbench not found (install postgresql-client or postgresql-contrib)")


def version() -> str:
    return subprocess.run([pgbench_bin(), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def init(server: str, scale: int, log=print) -> str:
    """pgbench's own tables in a separate database, initialised once per pgbench scale."""
    url = ensure_database(server, PGBENCH_DB)
    with psycopg.connect(url, autocommit=True) as c:
        have = c.execute("SELECT to_regclass('pgbench_branches') IS NOT NULL").fetchone()[0]
        n = c.execute("SELECT count(*) FROM pgbench_branches").fetchone()[0] if have else -1
    if n != scale:
        log(f"pgbench: initialising scale {scale} in database {PGBENCH_DB}")
        res = subprocess.run([pgbench_bin(), "-i", "-q", "-s", str(scale), url], capture_output=True, text=True,
                             check=False)
        if res.returncode != 0:
            raise PgbenchError(f"pgbench -i failed: {res.stderr.strip()[-500:]}")
    return url


def _args(tmp: str, url: str, load: list[str], builtin: str | None, script: str | None, defines: dict | None) -> list[str]:
    """pgbench's command line: no vacuum, the load options, a per-transaction log in tmp (prefix tx), the
    built-in or custom script (written to tmp), the -D variables, the URL."""
    args = [pgbench_bin(), "-n", *load, "-l", "--log-prefix", os.path.join(tmp, "tx")]
    if builtin:
        args += ["-b", builtin]
    if script is not None:
        path = os.path.join(tmp, "script.sql")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(script)
        args += ["-f", path]
    for k, v in (defines or {}).items():
        args += ["-D", f"{k}={v}"]
    return [*args, url]


def run(url: str, *, clients: int, seconds: float, builtin: str | None = None, script: str | None = None,
        defines: dict | None = None, jobs: int = 2) -> dict:
    """One pgbench run: tps (without connection time), p50/p99 latency and counts."""
    with tempfile.TemporaryDirectory(prefix="ssr-pgbench-") as tmp:
        args = _args(tmp, url, ["-c", str(clients), "-j", str(min(jobs, clients)), "-T", str(max(1, round(seconds)))],
                     builtin, script, defines)
        res = subprocess.run(args, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise PgbenchError(f"pgbench failed ({res.returncode}): {(res.stderr or res.stdout).strip()[-800:]}")
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", res.stdout)
        if not m:
            raise PgbenchError(f"cannot read tps from pgbench output:\n{res.stdout[-800:]}")
        lat = []
        for f in glob.glob(os.path.join(tmp, "tx.*")):
            with open(f, encoding="ascii") as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2].isdigit():
                        lat.append(int(parts[2]) / 1e6)
        failed = re.search(r"number of failed transactions: (\d+)", res.stdout)
        done = re.search(r"number of transactions actually processed: (\d+)", res.stdout)
    if not lat:
        raise PgbenchError("pgbench logged no transaction")
    return {
        "tps": round(float(m.group(1)), 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 3),
        "p99_ms": round(percentile(lat, 99) * 1000, 3),
        "transactions": int(done.group(1)) if done else len(lat),
        "failed": int(failed.group(1)) if failed else 0,
    }


def pgbench_url(server: str) -> str:
    return url_for(server, PGBENCH_DB)


MISSED: dict[str, str] = {}  # why backend_cpu_per_transaction last returned None


def backend_cpu_per_transaction(url: str, *, seconds: float, builtin: str | None = None, script: str | None = None,
                                defines: dict | None = None) -> dict | None:
    """One pgbench client for `seconds`: the CPU its server backend spends per transaction
    (from /proc, between two readings taken while it runs; transactions counted from pgbench's
    per-transaction log between the same two instants): a comparison by cost rather than rate,
    which a machine that other tenants slow down moves less than it moves rates. None when the
    server is not on this machine."""
    with tempfile.TemporaryDirectory(prefix="ssr-pgbench-cpu-") as tmp:
        duration = max(3, round(seconds))
        args = _args(tmp, url, ["-c", "1", "-T", str(duration)], builtin, script, defines)
        started = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PGAPPNAME="ssr-bench-cpu"))
        pid, first, last = None, None, None
        try:
            # The window is placed in pgbench's run: from 1 s after the start (past the connection and
            # the first calls) to 0.5 s before pgbench's own -T ends (it counts from later). The
            # backend is looked up at the window's start, and again until /proc has it: pgbench opens
            # a first connection of its own before its clients' and closes it, and on a busy machine
            # a lookup made earlier finds that short-lived backend.
            time.sleep(max(0.0, started + 1.0 - time.monotonic()))
            with psycopg.connect(url, autocommit=True) as c:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and proc.poll() is None:
                    row = c.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'ssr-bench-cpu' "
                                    "AND pid <> pg_backend_pid() AND state IS NOT NULL ORDER BY backend_start DESC "
                                    "LIMIT 1").fetchone()
                    pid = row[0] if row else None
                    if pid is not None and process_cpu(pid) is not None:
                        break
                    time.sleep(0.05)
            if pid is not None:
                first = (time.time(), process_cpu(pid))
                time.sleep(max(0.0, started + duration - 0.5 - time.monotonic()))
                last = (time.time(), process_cpu(pid))
        finally:
            _, err = proc.communicate()
        if proc.returncode != 0:
            raise PgbenchError(f"pgbench failed ({proc.returncode}): {err.strip()[-800:]}")
        if not (first and last and first[1] is not None and last[1] is not None):
            MISSED["why"] = f"no two readings (backend pid {pid}, first {first}, last {last})"
            return None
        done = 0
        for f in glob.glob(os.path.join(tmp, "tx.*")):
            with open(f, encoding="ascii") as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) >= 6:
                        at = int(parts[4]) + int(parts[5]) / 1e6  # when the transaction ended
                        done += first[0] <= at < last[0]
    if done == 0:
        MISSED["why"] = f"no transaction ended between the readings ({first[0]:.3f} to {last[0]:.3f})"
        return None
    return {"cpu_us": round((last[1] - first[1]) * 1e6 / done, 1), "transactions": done,
            "cpu_s": round(last[1] - first[1], 3)}
