"""The adaptive HLS ladder of a post: one ffmpeg pass from the export's own render graph.

The composed reel (``render_graph.export_streams``: the very picture and sound the export encodes)
is split once and scaled to every rung; each rung is encoded with its bitrate cap and the same
keyframe grid (a keyframe every ``SEGMENT_S`` seconds, forced, no scene-cut keyframes), so segment
``n`` of every rung starts on the same frame and a player switches between rungs at any boundary.
ffmpeg's HLS muxer writes fMP4 segments, VOD playlists and a master playlist for all rungs at once.

    rungs = build_ladder(edit, assets, out_dir, on_progress=..., cancel=...)
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from studio.editor.document import Edit
from studio.editor.render_graph import AUDIO_RATE, RenderError, export_streams
from studio.errors import StudioError
from studio.media import ffmpeg

log = logging.getLogger(__name__)
SEGMENT_S = 2          # segment length and GOP: every rung has a keyframe exactly there
X264_PRESET = "veryfast"
SCALER = "area"         # downscaling each rung from the one above: sharp, and the cheapest good one


class LadderError(StudioError, RuntimeError):
    """The ladder could not be built; ``str(e)`` says why."""


class LadderCancelled(LadderError):
    def __init__(self) -> None:
        super().__init__("Publishing was cancelled.")


@dataclass(frozen=True)
class Rung:
    name: str            # folder of its playlist and segments: "1080p"
    width: int
    height: int
    video_kbps: int
    audio_kbps: int
    preset: str = X264_PRESET   # x264's; the small rungs use a faster one (the ladder's cost budget)

    @property
    def playlist(self) -> str:
        return f"{self.name}/index.m3u8"


# 9:16, about 5 / 2.8 / 1.4 / 0.8 Mbit/s of video; AAC 128 / 96 / 64 kbit/s.
RUNGS = (
    Rung("1080p", 1080, 1920, 5000, 128),
    Rung("720p", 720, 1280, 2800, 96, "superfast"),
    Rung("480p", 480, 854, 1400, 64, "superfast"),
    Rung("360p", 360, 640, 800, 64, "superfast"),
)


def rungs_for(edit: Edit) -> tuple[Rung, ...]:
    """The rungs for this canvas: the 9:16 ladder, scaled to the canvas's shape when it is another
    (a 1:1 or 4:5 reel keeps its shape; heights stay even)."""
    w, h = edit.canvas.width, edit.canvas.height
    if (w, h) == (1080, 1920):
        return RUNGS
    out = []
    for r in RUNGS:
        scale = r.width / 1080
        out.append(Rung(r.name, max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2),
                        r.video_kbps, r.audio_kbps, r.preset))
    return tuple(out)


def ladder_argv(edit: Edit, assets: Mapping, out_dir: Path, *, overlay_dir: Path | None = None,
                rungs: tuple[Rung, ...] | None = None) -> list[str]:
    """The one ffmpeg command (without the binary) that writes the whole ladder into ``out_dir``."""
    rungs = rungs or rungs_for(edit)
    fps = edit.canvas.fps
    gop = fps * SEGMENT_S
    ff, v, a, frames = export_streams(edit, assets, overlay_dir=overlay_dir)
    as_ = a.asplit() if len(rungs) > 1 else None
    streams, opts = [], {}
    source = v   # each rung is scaled from the one above it (a cascade: every scaler reads the fewest pixels)
    for i, r in enumerate(rungs):
        if (r.width, r.height) != (edit.canvas.width, edit.canvas.height) or i:
            source = source.filter("scale", r.width, r.height, flags=SCALER)
        if i < len(rungs) - 1:
            pair = source.split()
            vi, source = pair[0], pair[1]
        else:
            vi = source
        streams += [vi, as_[i] if as_ is not None else a]
        opts[f"preset:v:{i}"] = r.preset
        opts[f"b:v:{i}"] = f"{r.video_kbps}k"
        opts[f"maxrate:v:{i}"] = f"{round(r.video_kbps * 1.07)}k"
        opts[f"bufsize:v:{i}"] = f"{round(r.video_kbps * 1.5)}k"
        opts[f"b:a:{i}"] = f"{r.audio_kbps}k"
    opts.update({
        "c:v": "libx264", "profile:v": "high", "pix_fmt": "yuv420p",
        "g": gop, "keyint_min": gop, "sc_threshold": 0,
        "x264-params": f"scenecut=0:keyint={gop}:min-keyint={gop}",
        "force_key_frames": f"expr:gte(t,n_forced*{SEGMENT_S})",
        "r": fps, "fps_mode": "cfr", "colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709",
        "color_range": "tv", "c:a": "aac", "ar": AUDIO_RATE, "ac": 2,
        "map_metadata": -1, "map_chapters": -1, "frames:v": frames,
        "f": "hls", "hls_time": SEGMENT_S, "hls_playlist_type": "vod", "hls_segment_type": "fmp4",
        "hls_flags": "independent_segments", "hls_fmp4_init_filename": "init.mp4",
        "hls_segment_filename": str(out_dir / "%v" / "seg_%03d.m4s"),
        "master_pl_name": "ffmpeg-master.m3u8",
        "var_stream_map": " ".join(f"v:{i},a:{i},name:{r.name}" for i, r in enumerate(rungs)),
    })
    stream = ff.output(*streams, str(out_dir / "%v" / "index.m3u8"), **opts)
    return ["-loglevel", "error", "-y", *stream.get_args()]


def build_ladder(edit: Edit, assets: Mapping, out_dir: Path, *, overlay_dir: Path | None = None,
                 on_progress: Callable[[float], None] | None = None,
                 cancel: threading.Event | None = None) -> list[dict]:
    """Encode the ladder into ``out_dir`` (its rung folders replaced) and write ``master.m3u8``.

    Returns one dict per rung: name, width, height, bandwidth (peak bits/s of its segments),
    average_bandwidth, codecs, playlist. Raises LadderCancelled, LadderError."""
    out_dir = Path(out_dir)
    rungs = rungs_for(edit)
    for r in rungs:   # only the rungs' own folders: the bundle's other files share ``out_dir``
        shutil.rmtree(out_dir / r.name, ignore_errors=True)
        (out_dir / r.name).mkdir(parents=True, exist_ok=True)
    try:
        argv = ladder_argv(edit, assets, out_dir, overlay_dir=overlay_dir, rungs=rungs)
    except RenderError as e:
        raise LadderError(str(e)) from e
    total_s = edit.duration_us / 1e6
    started = time.monotonic()
    log.info("ladder: %d rungs, %.1f s, into %s", len(rungs), total_s, out_dir)
    try:
        proc = ffmpeg.run_job(argv, duration_s=total_s, on_fraction=on_progress, cancel=cancel)
    except OSError as e:
        raise LadderError(f"ffmpeg could not be started: {e.strerror}.") from e
    if cancel is not None and cancel.is_set():
        raise LadderCancelled()
    if proc.returncode != 0:
        text = proc.error_text
        log.error("ladder failed:\n%s", text)
        if "No space left" in text:
            raise LadderError("The disk is full; free some space and publish again.")
        last = next((ln for ln in reversed(proc.error_lines) if ln.strip()), "no details")
        raise LadderError(f"Building the qualities failed ({last[:200]}). The draft is unchanged; see the log.")
    log.info("ladder built in %.1f s", time.monotonic() - started)
    codecs = _ffmpeg_codecs(out_dir / "ffmpeg-master.m3u8")
    (out_dir / "ffmpeg-master.m3u8").unlink(missing_ok=True)
    renditions = []
    for r in rungs:
        peak, average = _bandwidth(out_dir / r.name / "index.m3u8")
        renditions.append({"name": r.name, "width": r.width, "height": r.height, "bandwidth": peak,
                           "average_bandwidth": average, "codecs": codecs.get(r.name) or "avc1.640028,mp4a.40.2",
                           "frame_rate": edit.canvas.fps, "playlist": r.playlist})
    write_master(out_dir / "master.m3u8", renditions)
    if on_progress:
        on_progress(1.0)
    return renditions


def _ffmpeg_codecs(master: Path) -> dict[str, str]:
    """rung name -> CODECS as ffmpeg wrote it in its master playlist (read from the encoded streams)."""
    out: dict[str, str] = {}
    try:
        lines = master.read_text().splitlines()
    except OSError:
        return out
    for i, line in enumerate(lines):
        m = re.search(r'CODECS="([^"]+)"', line)
        if m and line.startswith("#EXT-X-STREAM-INF") and i + 1 < len(lines):
            out[lines[i + 1].split("/")[0]] = m.group(1)
    return out


def segments_of(playlist: Path) -> list[tuple[float, str]]:
    """(duration s, uri) of every segment of a media playlist."""
    lines = playlist.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXTINF:") and i + 1 < len(lines):
            out.append((float(line[8:].split(",")[0]), lines[i + 1].strip()))
    return out


def _bandwidth(playlist: Path) -> tuple[int, int]:
    """(peak, average) bits per second of a rung, from its segments' sizes and durations (the init
    segment counted with the first), as HLS's BANDWIDTH / AVERAGE-BANDWIDTH mean them."""
    m = re.search(r'#EXT-X-MAP:URI="([^"]+)"', playlist.read_text())
    init = playlist.parent / m.group(1) if m else None
    extra = init.stat().st_size if init is not None and init.exists() else 0
    peak, total_bits, total_s = 0.0, 0.0, 0.0
    for n, (dur, uri) in enumerate(segments_of(playlist)):
        bits = ((playlist.parent / uri).stat().st_size + (extra if n == 0 else 0)) * 8
        if dur > 0.5:   # a short last segment says little about the peak
            peak = max(peak, bits / dur)
        total_bits += bits
        total_s += dur
    average = total_bits / total_s if total_s else 0.0
    return int(math.ceil(max(peak, average))), int(math.ceil(average))


def write_master(path: Path, renditions: list[dict], uri: Callable[[str], str] = lambda p: p) -> None:
    """The master playlist: every rung with BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION, CODECS, FRAME-RATE;
    highest first (a player without bandwidth estimates starts with the first)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in renditions:
        lines.append(f'#EXT-X-STREAM-INF:BANDWIDTH={r["bandwidth"]},AVERAGE-BANDWIDTH={r["average_bandwidth"]},'
                     f'RESOLUTION={r["width"]}x{r["height"]},CODECS="{r["codecs"]}",'
                     f'FRAME-RATE={r["frame_rate"]:.3f}')
        lines.append(uri(r["playlist"]))
    path.write_text("\n".join(lines) + "\n")
