"""A one-line progress bar on stderr (no dependency)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, stream=sys.stderr, width: int = 30):
        self.label, self.total, self.stream, self.width = label, max(total, 1), stream, width
        self.done = 0
        self.t0 = time.perf_counter()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last_pct = -1
        self.update(0)

    def update(self, n: int, note: str = "") -> None:
        self.done += n
        frac = min(self.done / self.total, 1.0)
        pct = int(frac * 100)
        if not self.tty and pct // 10 == self._last_pct // 10 and self.done < self.total:
            return  # in a log, one line per 10 %
        self._last_pct = pct
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        line = f"{self.label:<14} [{bar}] {pct:3d}% {self.done:,}/{self.total:,} {elapsed:6.1f}s eta {eta:5.1f}s {note}"
        if self.tty:
            self.stream.write("\r" + line.ljust(110))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> float:
        elapsed = time.perf_counter() - self.t0
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        return elapsed
