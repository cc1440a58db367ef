"""CPU time per process tree, from /proc (Linux): where a measurement's CPU went.

`CpuAccount({"app": gunicorn_pid, "database": postmaster_pid, "bench": os.getpid()})` takes a
snapshot of the user + system time of every live process, each counted in the group of its
nearest ancestor among the roots (a root nested in another's tree, such as gunicorn started
by the bench process, keeps its own processes). `delta()` returns the CPU seconds each group
used since the snapshot (processes that started meanwhile count from zero; one that exited
meanwhile is not counted). Where /proc is missing, or the database runs on another machine,
the groups are simply absent."""

from __future__ import annotations

import os

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int | str) -> tuple[int, float] | None:
    """(ppid, user + system CPU seconds) of a local process, None if /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _HZ


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process (a backend, say), None if /proc cannot tell."""
    entry = _stat(pid)
    return entry[1] if entry else None


def _table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, cpu seconds) of every process readable now."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    return {int(name): entry for name in names if name.isdigit() and (entry := _stat(name)) is not None}


def parent_pid(pid: int) -> int | None:
    """The parent of a local process (e.g. the postmaster of a backend), None if unknown."""
    entry = _stat(pid)
    return entry[0] if entry else None


class CpuAccount:
    def __init__(self, roots: dict[str, int | None]):
        self.roots = {pid: group for group, pid in roots.items() if pid}
        self.start = self._by_pid()

    def _group_of(self, pid: int, table) -> str | None:
        for _ in range(64):
            if pid in self.roots:
                return self.roots[pid]
            entry = table.get(pid)
            if entry is None or entry[0] == pid:
                return None
            pid = entry[0]
        return None

    def _by_pid(self) -> dict[int, tuple[str, float]]:
        table = _table()
        out = {}
        for pid, (_, cpu) in table.items():
            group = self._group_of(pid, table)
            if group is not None:
                out[pid] = (group, cpu)
        return out

    def delta(self) -> dict[str, float]:
        now = self._by_pid()
        out = {group: 0.0 for group in self.roots.values()}
        for pid, (group, cpu) in now.items():
            before = self.start.get(pid)
            out[group] += cpu - (before[1] if before else 0.0)
        return {group: round(seconds, 3) for group, seconds in out.items()}
