"""Voice activity by energy: where the sound stays below a level for long enough (numpy only).

The level is in dBFS of 10 ms frames; a stretch quieter than ``threshold_db`` for at least
``min_silence_us`` is a silence. Deterministic and fast (a 60 s reel in milliseconds), and good for
a talking head; it is what ffmpeg's ``silencedetect`` computes, without starting a process.
"""

from __future__ import annotations

import numpy as np

from studio.editor.document import US
from studio.speech.audio import RATE

FRAME = RATE // 100          # 10 ms
DEFAULT_THRESHOLD_DB = -38.0


def frame_levels(samples: np.ndarray) -> np.ndarray:
    """dBFS of each whole 10 ms frame."""
    n = len(samples) // FRAME
    if n == 0:
        return np.zeros(0)
    x = samples[: n * FRAME].astype(np.float64).reshape(n, FRAME) / 32768.0
    rms = np.sqrt(np.mean(x * x, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-9))


def silences(samples: np.ndarray, *, threshold_db: float = DEFAULT_THRESHOLD_DB,
             min_silence_us: int = 500_000) -> list[tuple[int, int]]:
    """(start_us, end_us) of each silence at least ``min_silence_us`` long, relative to ``samples``."""
    quiet = frame_levels(samples) < threshold_db
    out = []
    frame_us = US * FRAME // RATE
    i, n = 0, len(quiet)
    while i < n:
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j < n and quiet[j]:
            j += 1
        a, b = i * frame_us, (j * frame_us if j < n else len(samples) * US // RATE)
        if b - a >= min_silence_us:
            out.append((a, b))
        i = j
    return out


def speech_spans(samples: np.ndarray, *, threshold_db: float = DEFAULT_THRESHOLD_DB, min_silence_us: int = 300_000,
                 margin_us: int = 150_000) -> list[tuple[int, int]]:
    """The stretches between silences (with a margin each side): one utterance each for a recogniser."""
    total = len(samples) * US // RATE
    out, t = [], 0
    for a, b in silences(samples, threshold_db=threshold_db, min_silence_us=min_silence_us):
        if a > t:
            out.append((max(0, t - margin_us), min(total, a + margin_us)))
        t = b
    if total > t:
        out.append((max(0, t - margin_us), total))
    return [(a, b) for a, b in out if b - a >= 100_000]
