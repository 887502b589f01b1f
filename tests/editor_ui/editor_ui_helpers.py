"""Helpers for the editor UI tests: generated sources, reference frames from ffmpeg, PSNR."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.media import ffmpeg


def make_video(path: Path, *, seconds: float = 3, fps: int = 30, size: str = "320x240", gop: int = 15,
               bframes: int = 2, audio: bool = False) -> Path:
    """A testsrc2 clip (moving picture, so every frame differs) encoded like a camera would."""
    args = ["-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-bf", str(bframes), "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac"] if audio else []
    ffmpeg.run([*args, str(path)], timeout=120)
    return path


def ffmpeg_frame(path: Path, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Frame number ``index`` as ffmpeg decodes it (display order, autorotated), RGB."""
    vf = f"select=eq(n\\,{index})"
    if size is not None:
        vf += f",scale={size[0]}:{size[1]}"
    out = ffmpeg.run(["-v", "error", "-i", str(path), "-vf", vf, "-frames:v", "1", "-f", "rawvideo",
                      "-pix_fmt", "rgb24", "pipe:1"], timeout=60).stdout
    return out


def as_image(raw: bytes, width: int, height: int) -> np.ndarray:
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
