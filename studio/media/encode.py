"""ffmpeg command lines for recording: the live take writer and the finalize (mux) step.

The live writer reads raw BGR frames on stdin at a constant rate and writes a *fragmented* MP4
(a fragment per 1-second GOP): every finished fragment is playable, so a killed recorder loses at
most the last second or two. Finalizing remuxes that file (no re-encode of the picture), adds the
sound recorded alongside as raw PCM, and moves the index to the front for instant playback.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from studio import durable
from studio.errors import StudioError
from studio.media import ffmpeg

# BT.709 in TV range is what players assume for HD; tagging it avoids washed-out or shifted colours.
COLOR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
FRAGMENTED = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-flush_packets", "1"]


def realtime_preset(size: tuple[int, int], fps: float) -> str:
    """The x264 preset that keeps up in real time on a small (2-core) machine."""
    pixels_per_second = size[0] * size[1] * fps
    return "veryfast" if pixels_per_second <= 1280 * 720 * 30 else "ultrafast"


def take_writer_command(out: Path, size: tuple[int, int], fps: float, *, preset: str | None = None,
                        crf: int = 21) -> list[str]:
    """ffmpeg reading ``size`` BGR frames at ``fps`` from stdin into a fragmented H.264 MP4."""
    w, h = size
    gop = max(1, round(fps))
    return [
        ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "warning",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-framerate", f"{fps:g}", "-i", "pipe:0",
        "-an", "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
        "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
        "-c:v", "libx264", "-preset", preset or realtime_preset(size, fps), "-tune", "zerolatency",
        "-crf", str(crf), "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        *COLOR_TAGS, *FRAGMENTED, "-f", "mp4", "-y", str(out),
    ]


def start_take_writer(out: Path, size: tuple[int, int], fps: float, *, log_file: Path,
                      preset: str | None = None) -> subprocess.Popen:
    """Start the live writer; feed ``proc.stdin`` with ``w*h*3`` bytes per frame, close it to finish."""
    with open(log_file, "ab") as log:
        return subprocess.Popen(take_writer_command(out, size, fps, preset=preset), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=log, bufsize=0)


@dataclass(frozen=True)
class RawAudio:
    """Signed 16-bit little-endian PCM recorded next to the picture."""

    path: Path
    sample_rate: int
    channels: int
    offset_samples: int   # where its first sample lies relative to the first frame (negative: before)


class FinalizeError(StudioError, RuntimeError):
    """The take could not be turned into a finished file; the raw recording is kept."""


def finalize_command(video: Path, out: Path, audio: RawAudio | None) -> list[str]:
    args = ["-y", "-v", "error", "-err_detect", "ignore_err", "-i", str(video)]
    if audio is None:
        return [*args, "-map", "0:v:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(out)]
    args += ["-f", "s16le", "-ar", str(audio.sample_rate), "-ac", str(audio.channels), "-i", str(audio.path)]
    if audio.offset_samples > 0:
        shift = f"adelay=delays={audio.offset_samples}S:all=1,"
    elif audio.offset_samples < 0:
        shift = f"atrim=start_sample={-audio.offset_samples},asetpts=PTS-STARTPTS,"
    else:
        shift = ""
    # apad + -shortest: sound that stops early is padded with silence and cut exactly at the picture's end.
    return [*args, "-filter_complex", f"[1:a]{shift}apad[a]", "-map", "0:v:0", "-map", "[a]",
            "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-shortest",
            "-movflags", "+faststart", "-f", "mp4", str(out)]


def finalize_take(video: Path, out: Path, audio: RawAudio | None = None, *, timeout: float = 600) -> Path:
    """Remux the fragmented ``video`` (+ raw ``audio``) into ``out`` atomically. Raises FinalizeError."""
    part = out.with_name(out.name + ".part")
    proc = ffmpeg.run(finalize_command(video, part, audio), timeout=timeout, check=False)
    if proc.returncode != 0 or not part.exists() or part.stat().st_size == 0:
        part.unlink(missing_ok=True)
        detail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise FinalizeError(f"The recording in {video.parent.name} could not be finished ({detail[0]}); "
                            "the raw recording was kept.")
    durable.fsync_file(part)
    part.replace(out)
    return out


def decode_luma(path: Path, size: tuple[int, int] = (64, 36), *, timeout: float = 300) -> "np.ndarray":
    """Every frame of ``path`` as small grey pictures, shape (frames, h, w) — for checking recordings."""
    import numpy as np

    w, h = size
    proc = ffmpeg.run(["-v", "error", "-i", str(path), "-map", "0:v:0", "-vf", f"scale={w}:{h}", "-f", "rawvideo",
                       "-pix_fmt", "gray", "-fps_mode", "passthrough", "pipe:1"], timeout=timeout)
    return np.frombuffer(proc.stdout, np.uint8).reshape(-1, h, w)


def decode_pcm(path: Path, sample_rate: int = 48_000, *, timeout: float = 300) -> "np.ndarray":
    """The first audio stream of ``path`` as mono float samples in -1..1."""
    import numpy as np

    proc = ffmpeg.run(["-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate),
                       "-f", "s16le", "pipe:1"], timeout=timeout)
    return np.frombuffer(proc.stdout, "<i2").astype(np.float32) / 32768.0
