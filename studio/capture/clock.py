"""What the picture sources and the sound inputs share: the clock they stamp with, and the sync marks.

Both ``sources`` (pictures) and ``audio`` (sound) import this module and never each other's
internals, so the two halves of a take meet only here (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# A function returning seconds on one monotonic timeline (time.monotonic by default; tests pass fakes).
Clock = Callable[[], float]


@dataclass(frozen=True)
class SyncMarks:
    """A white flash (video) and a beep (audio) start together every ``every`` seconds."""

    every: float = 2.0
    first: float = 1.0
    length: float = 0.1

    def active(self, t: float) -> bool:
        if t < self.first:
            return False
        return (t - self.first) % self.every < self.length
