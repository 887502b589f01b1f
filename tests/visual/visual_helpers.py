"""Helpers for the visual-editing tests: generated stages, solid-colour takes, click tracks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from studio.media.ffmpeg import ffmpeg_exe

DATA = Path(__file__).resolve().parent.parent / "data"


def astronaut() -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(DATA / "astronaut.png")), cv2.COLOR_BGR2RGB)


def walking_face_stage(path: Path, *, seconds: float = 6.0, fps: int = 30, size=(640, 360),
                       photo: int = 300) -> list[float]:
    """A 16:9 stage where the astronaut photo walks from the left edge to the right one.
    Returns, per frame, the face's true centre x as a fraction of the stage width."""
    import cv2

    w, h = size
    face = cv2.resize(astronaut(), (photo, photo), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(7)
    backdrop = np.clip(rng.normal(70, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    backdrop = cv2.GaussianBlur(backdrop, (9, 9), 0)
    n = int(seconds * fps)
    truth = []
    proc = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0", "-c:v", "libx264",
                             "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    for i in range(n):
        x = round((w - photo) * i / (n - 1))
        frame = backdrop.copy()
        frame[h - photo:, x:x + photo] = face
        truth.append((x + 0.44 * photo) / w)        # the face sits at 44 % of the photo's width
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0
    return truth


def solid_take(path: Path, colour: str, *, seconds: float = 2.0, size: str = "320x568", fps: int = 30) -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={fps}:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f=330:d={seconds}:sample_rate=48000", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
                   check=True, timeout=120)
    return path


def decode_frames(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Every frame of a video, scaled to ``size``, RGB (n, h, w, 3)."""
    w, h = size
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", f"scale={w}:{h}", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "pipe:1"], check=True, capture_output=True, timeout=300).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
