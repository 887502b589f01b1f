"""Progress for people: acknowledged bytes, a moving-average rate, an ETA, at most N updates/s.

Only acknowledged (committed) parts count, so progress never goes backwards on a retry and never
passes 100%. A restart from zero is not a retry: the owner of the meter drops it (or calls
``restart``) and says why, so the bar goes back to zero instead of hiding the restart.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    rate: float          # bytes per second, moving average
    eta: float | None    # seconds

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0


class ProgressMeter:
    def __init__(self, window: float = 5.0, max_per_second: float = 10.0, clock=time.monotonic):  # noqa: ANN001
        self.window = window
        self.min_interval = 1.0 / max_per_second
        self.clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._best = 0
        self._last_emit = -1e9
        self._finished = False

    def update(self, done: int, total: int, *, force: bool = False) -> Progress | None:
        """Record a sample; returns a Progress when one should be shown (rate-limited), else None."""
        now = self.clock()
        done = max(self._best, min(done, total))
        self._best = done
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window:
            self._samples.popleft()
        finishing = done >= total and not self._finished   # the 100% update is never swallowed
        if not force and not finishing and now - self._last_emit < self.min_interval:
            return None
        self._finished = self._finished or done >= total
        self._last_emit = now
        return self.current(total)

    def restart(self) -> None:
        """The job started again from zero: forget the old maximum and the rate."""
        self._samples.clear()
        self._best = 0
        self._finished = False
        self._last_emit = -1e9

    def current(self, total: int) -> Progress:
        rate = 0.0
        if len(self._samples) >= 2:
            (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
            if t1 > t0:
                rate = (b1 - b0) / (t1 - t0)
        eta = (total - self._best) / rate if rate > 0 else None
        return Progress(self._best, total, rate, eta)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def human_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
