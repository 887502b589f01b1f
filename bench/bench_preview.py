"""Editor preview: seek latency of the in-process decoder, and preview playback speed.

* seek latency: random clicks on the timeline of a reel cut from a 20 s 1080p30 H.264 source
  generated here (testsrc2, a keyframe every 60 frames as phones write, B-frames as x264 writes
  them), each timed as the playback worker serves it: the compositor's frame at preview size
  (540x960, the landscape take filling the vertical canvas, a look, two texts, a sticker) as a
  QImage ready to paint. Median ≤ 80 ms, p95 ≤ 150 ms. CPU time per click and the work per click
  (pictures decoded, frames converted to RGB) are reported beside them: they hold still when the
  machine is loaded. The same with a keyframe every 250 frames is reported for information.
* playback: frames per second the preview pipe (the export's render graph at 540x960, with a
  filter, two texts and a sticker) delivers from that source, unpaced. Target ≥ 30 fps.
  The scrubbing path (decoder + numpy compositing) is reported too.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

US = 1_000_000


def _make_source(folder: Path, gop: int, seconds: int) -> Path:
    from studio.media import ffmpeg

    out = folder / f"src_gop{gop}.mp4"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
                "-c:v", "libx264", "-preset", "veryfast", "-g", str(gop), "-keyint_min", str(gop),
                "-pix_fmt", "yuv420p", str(out)], timeout=600)
    return out


def _seek_rows(path: Path, seeks: int, gop: int, target: bool, cache: Path) -> list[dict]:
    """What a click on the timeline waits for: the playback worker's seek, i.e. the compositor's
    fast frame of the reel at that moment (decode, place, look, overlays) turned into a QImage."""
    from studio.editor.overlays import ensure_gui
    from studio.editor.playback import to_qimage
    from studio.editor.preview import PreviewCompositor

    ensure_gui()
    edit, assets = _reel(path)
    comp = PreviewCompositor(edit, assets, cache_dir=cache, size=(540, 960))
    rnd = random.Random(1234)
    times, cpu = [], []
    try:
        comp.overlays()           # rasterized when the edit changes, not per seek
        to_qimage(comp.fast_frame(0))  # open + first decode are not a seek
        before = comp.decoders.counts()
        span = edit.duration_us - US // 30
        for _ in range(seeks):
            t = rnd.randrange(0, span)
            t0, c0 = time.perf_counter(), time.process_time()
            to_qimage(comp.fast_frame(t))
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        after = comp.decoders.counts()
    finally:
        comp.close()
    decoded = (after["decoded"] - before["decoded"]) / seeks
    converted = (after["converted"] - before["converted"]) / seeks
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    note = (f"{seeks} random clicks, 1080p H.264 GOP {gop} on a 540x960 reel (fill, vivid, 2 texts, 1 sticker), "
            f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return [
        {"name": f"seek latency median (GOP {gop})", "value": median, "unit": "ms",
         "target": "<= 80 ms" if target else "info", "ok": (median <= 80) if target else None, "note": note},
        {"name": f"seek latency p95 (GOP {gop})", "value": p95, "unit": "ms",
         "target": "<= 150 ms" if target else "info", "ok": (p95 <= 150) if target else None, "note": note},
        # CPU time (all decoder threads) tells a busy shared machine apart from a slow decoder
        {"name": f"seek CPU time median (GOP {gop})", "value": statistics.median(cpu), "unit": "ms",
         "target": "info", "ok": None, "note": "process CPU time per click, all threads"},
        # the work itself, which no load changes: pictures decoded and frames converted to RGB per click
        {"name": f"frames decoded per seek (GOP {gop})", "value": decoded, "unit": "frames",
         "target": "info", "ok": None, "note": "mean; non-reference frames never shown are skipped"},
        {"name": f"frames converted per seek (GOP {gop})", "value": converted, "unit": "frames",
         "target": "info", "ok": None, "note": "mean; only the frame shown"},
    ]


def _reel(path: Path):
    from studio.editor.document import Edit, add_sticker, add_text, update_clip
    from studio.media.ref import MediaRef

    end = MediaRef.probed(path).duration_us * 30 // US * US // 30   # the source's whole frames
    asset = MediaRef(id="a1", path=path, kind="video", rotation=0, width=1920, height=1080, fps=30.0,
                     duration_us=end, has_audio=False)
    edit = Edit.from_dict({"schema_version": 2, "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c1", "asset_id": "a1", "source_in_us": 0, "source_out_us": end}]})
    edit = update_clip(edit, "c1", look={"name": "vivid"})
    edit, _ = add_text(edit, "Three overlays", 0, end, background="#00000099", y=0.2)
    edit, _ = add_text(edit, "at 540x960", 0, end, y=0.8, size=0.04)
    edit, _ = add_sticker(edit, "builtin:star", 0, end, x=0.75, y=0.5)
    return edit, {"a1": asset}


def _playback_rows(path: Path, frames: int, cache: Path) -> list[dict]:
    from studio.editor.overlays import ensure_gui
    from studio.editor.preview import PreviewCompositor

    ensure_gui()
    edit, assets = _reel(path)
    comp = PreviewCompositor(edit, assets, cache_dir=cache, size=(540, 960))
    try:
        comp.overlays()  # rasterized once, before timing (the editor does it when the edit changes)
        t0 = time.perf_counter()
        n = 0
        with comp.stream(0) as pipe:
            for _frame in pipe:
                n += 1
                if n >= frames:
                    break
        pipe_fps = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        fast_n = max(30, frames // 3)
        for i in range(fast_n):
            comp.fast_frame(round(i * US / 30))
        fast_fps = fast_n / (time.perf_counter() - t0)
    finally:
        comp.close()
    return [
        {"name": "preview playback (render graph pipe)", "value": pipe_fps, "unit": "fps", "target": ">= 30 fps",
         "ok": pipe_fps >= 30, "note": f"{n} frames at 540x960, 1080p source, vivid look + 2 texts + 1 sticker, "
                                       "including ffmpeg start-up"},
        {"name": "scrub frames (decoder + compositing)", "value": fast_fps, "unit": "fps", "target": "info",
         "ok": None, "note": f"{fast_n} consecutive frames, same reel"},
    ]


def run(full: bool) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        folder = Path(tmp)
        seconds = 20 if full else 8
        src60 = _make_source(folder, 60, seconds)
        rows = _seek_rows(src60, 50 if full else 10, 60, target=True, cache=folder / "cache")
        if full:
            rows += _seek_rows(_make_source(folder, 250, seconds), 50, 250, target=False, cache=folder / "cache")
        rows += _playback_rows(src60, 300 if full else 90, folder / "cache")
        return rows


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for row in run(full="--quick" not in sys.argv):
        print(row)
