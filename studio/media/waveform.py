"""Audio peaks for the music lane: ffmpeg decodes to low-rate mono PCM, we keep one peak per bucket.

    peaks = waveform.peaks(path, per_second=50, cache_dir=layout.thumbs)   # float32 in 0..1

Decoding a 3-minute song at 8 kHz mono takes well under a second; the result (a few KB) is cached
next to the thumbnails, keyed by the file's size and mtime, so reopening a draft paints at once.
Run it off the UI thread.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np

from studio.media import ffmpeg
from studio.media.probe import MediaError

RATE = 8000  # Hz: plenty for an envelope drawn a few pixels per second


def _cache_file(path: Path, per_second: int, cache_dir: Path) -> Path:
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{per_second}".encode()).hexdigest()[:20]
    return cache_dir / "waveforms" / f"{key}.npy"


def decode_mono(path: str | Path, *, rate: int = RATE, timeout: float = 120) -> np.ndarray:
    """The file's audio as mono float32 samples in -1..1 at ``rate``. Raises MediaError."""
    path = Path(path)
    if not path.is_file():
        raise MediaError("missing", f"“{path}” does not exist.")
    try:
        proc = ffmpeg.run(["-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate),
                           "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"], timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise MediaError("unreadable", f"Reading the sound of “{path.name}” took too long.") from e
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        if b"does not contain any stream" in proc.stderr or b"Output file #0 does not contain" in proc.stderr \
                or b"matches no streams" in proc.stderr:
            raise MediaError("no_audio", f"“{path.name}” has no sound.")
        raise MediaError("unreadable", f"The sound of “{path.name}” cannot be read ({detail[0]}).")
    if not proc.stdout:
        raise MediaError("no_audio", f"“{path.name}” has no sound.")
    return np.frombuffer(proc.stdout, dtype="<i2").astype(np.float32) / 32768.0


def peaks_from_samples(samples: np.ndarray, rate: int, per_second: int) -> np.ndarray:
    """Absolute peak of each 1/per_second bucket (the last, partial bucket included)."""
    size = max(1, rate // per_second)
    n = -(-len(samples) // size)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    padded = np.zeros(n * size, dtype=np.float32)
    padded[: len(samples)] = np.abs(samples)
    return padded.reshape(n, size).max(axis=1)


def peaks(path: str | Path, *, per_second: int = 50, cache_dir: Path | None = None) -> np.ndarray:
    """One peak (0..1) per 1/per_second of the file's sound. Raises MediaError (no_audio when silent-less)."""
    path = Path(path)
    cached = _cache_file(path, per_second, cache_dir) if cache_dir is not None and path.is_file() else None
    if cached is not None and cached.is_file():
        try:
            return np.load(cached)
        except (OSError, ValueError):
            pass  # a damaged cache entry is simply rebuilt
    result = peaks_from_samples(decode_mono(path), RATE, per_second)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, result)
        os.replace(tmp, cached)
    return result
