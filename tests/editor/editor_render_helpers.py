"""Helpers for render tests: assets from real files, decoding output frames/audio, MP4 box order."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from studio.media.ref import MediaRef
from studio.media import ffmpeg, probe


def render_asset(path: Path) -> MediaRef:
    return MediaRef.probed(path)


def frames(path: Path, w: int, h: int) -> np.ndarray:
    """Every frame of a video, scaled to w x h, as (n, h, w, 3) uint8 RGB."""
    raw = ffmpeg.run(["-i", str(path), "-vf", f"scale={w}:{h}", "-f", "rawvideo", "-pix_fmt", "rgb24",
                      "-an", "pipe:1"], timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def audio(path: Path, rate: int = 8000) -> np.ndarray:
    """The audio downmixed to mono float samples at ``rate``."""
    raw = ffmpeg.run(["-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"],
                     timeout=120).stdout
    return np.frombuffer(raw, np.float32)


def top_level_boxes(path: Path) -> list[str]:
    out, data = [], Path(path).read_bytes()
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
        out.append(kind.decode("latin-1"))
        if size < 8:
            break
        i += size
    return out


def make_tone(path: Path, seconds: float = 4.0, freq: int = 880) -> Path:
    ffmpeg.run(["-y", "-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100:duration={seconds}",
                "-c:a", "aac", "-b:a", "96k", str(path)], timeout=60)
    return path


def make_tagged_video(path: Path, seconds: float = 1.5) -> Path:
    """A phone-like source: location, device and creation tags, a stereo tone."""
    ffmpeg.run(["-y", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=30:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                "-metadata", "location=+37.7749-122.4194/", "-metadata", "location-eng=+37.7749-122.4194/",
                "-metadata", "make=Acme", "-metadata", "model=PhoneX 12", "-metadata", "comment=secret-gps",
                "-metadata", "creation_time=2024-05-01T10:00:00Z", "-movflags", "+use_metadata_tags", str(path)],
               timeout=60)
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
