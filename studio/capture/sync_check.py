"""Measure A/V sync in a recording of the synthetic source: white flashes (luma) against beeps (energy).

Used by the tests and the benchmark; works on any file whose picture flashes white while a loud
tone starts, so it checks the whole path (capture clock, writer, ffmpeg mux), not our own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.media.encode import decode_luma, decode_pcm


@dataclass
class SyncReport:
    flashes: list[float]     # seconds from the start of the file
    beeps: list[float]
    offsets: list[float]     # beep - flash for each pair, seconds (positive: sound late)

    @property
    def worst(self) -> float:
        return max((abs(o) for o in self.offsets), default=float("nan"))

    @property
    def median(self) -> float:
        return float(np.median(self.offsets)) if self.offsets else float("nan")


def flash_onsets(path: Path, fps: float) -> list[float]:
    luma = decode_luma(path).mean(axis=(1, 2))
    bright = luma > 200
    starts = np.flatnonzero(bright & ~np.concatenate(([False], bright[:-1])))
    return [i / fps for i in starts]


def beep_onsets(path: Path, sample_rate: int = 48_000, window: float = 0.001) -> list[float]:
    pcm = decode_pcm(path, sample_rate)
    n = max(1, int(sample_rate * window))
    frames = pcm[: len(pcm) // n * n].reshape(-1, n)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    loud = rms > 0.3
    starts = np.flatnonzero(loud & ~np.concatenate(([False], loud[:-1])))
    # The first loud millisecond can fall mid-window; step back to the first sample over the tone level.
    onsets = []
    for s in starts:
        lo = max(0, (s - 1) * n)
        seg = np.abs(pcm[lo:(s + 1) * n])
        first = np.flatnonzero(seg > 0.2)
        onsets.append((lo + (first[0] if first.size else n)) / sample_rate)
    return onsets


def measure(path: Path, fps: float) -> SyncReport:
    flashes, beeps = flash_onsets(path, fps), beep_onsets(path)
    offsets = []
    for f in flashes:
        near = min(beeps, key=lambda b: abs(b - f), default=None)
        if near is not None and abs(near - f) < 0.5:
            offsets.append(near - f)
    return SyncReport(flashes, beeps, offsets)
