"""Single frames out of a video, upright: thumbnails, cover frames, LQIP sources.

ffmpeg applies the display-matrix rotation while decoding (autorotate is on by default), so a
phone clip recorded sideways comes out portrait, as the creator saw it.
"""

from __future__ import annotations

from pathlib import Path

from studio.media import ffmpeg
from studio.media.decoder import ffmpeg_input_options
from studio.media.probe import MediaError


def frame_jpeg(path: str | Path, time_us: int = 0, *, max_side: int = 480, quality: int = 4) -> bytes:
    """One frame at ``time_us`` as JPEG bytes, scaled to fit ``max_side`` (aspect kept, upright).

    Falls back to the first frame when ``time_us`` is past the end (short clips, one-frame files).
    Raises MediaError("unreadable") when no frame can be decoded.
    """
    path = Path(path)
    data = _grab(path, time_us, max_side, quality)
    if not data and time_us > 0:
        data = _grab(path, 0, max_side, quality)
    if not data:
        raise MediaError("unreadable", f"“{path.name}” cannot be read: no picture could be decoded from it.")
    return data


def _grab(path: Path, time_us: int, max_side: int, quality: int) -> bytes:
    # Fast input seek lands on the keyframe before time_us; good enough for a cover thumbnail.
    seek = ["-ss", f"{time_us / 1e6:.6f}"] if time_us > 0 else []
    # a seek starts decoding mid-file: pass on what the decoder would have read at the first frame
    seek += [arg for k, v in ffmpeg_input_options(path).items() for arg in (f"-{k}", v)]
    scale = (f"scale=w='min({max_side},iw)':h='min({max_side},ih)':force_original_aspect_ratio=decrease,"
             "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuvj420p")
    proc = ffmpeg.run(["-v", "error", *seek, "-i", str(path), "-map", "0:v:0", "-frames:v", "1",
                       "-vf", scale, "-q:v", str(quality), "-f", "image2pipe", "-c:v", "mjpeg", "-"],
                      check=False, timeout=60)
    return proc.stdout if proc.returncode == 0 else b""
