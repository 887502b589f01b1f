"""Export speed: the render graph vs a hand-written ffmpeg command for the same reel, same run.

The reel: two 1080p clips (one with a look), a text, a sticker and a music track with a fade, to
1080x1920 H.264 High + AAC with identical encoder settings. The hand-written command is what an
expert would type for that result (crop+scale per clip, concat, two overlays, amix); both use the
same overlay PNGs. Runs alternate (reference, ours, reference, ours) so machine noise hits both;
the figure is ours / reference (best of each). ``full=False``: a 5 s reel, one run each.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _make_sources(folder: Path, clip_s: float, music_s: float) -> dict[str, Path]:
    from studio.media import ffmpeg

    out = {}
    for name, pattern in (("a", "testsrc2"), ("b", "smptehdbars")):
        path = folder / f"{name}.mp4"
        ffmpeg.run(["-y", "-f", "lavfi", "-i", f"{pattern}=size=1920x1080:rate=30:duration={clip_s}",
                    "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={clip_s}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2",
                    "-shortest", str(path)], timeout=600)
        out[name] = path
    out["song"] = folder / "song.m4a"
    ffmpeg.run(["-y", "-f", "lavfi", "-i", f"sine=frequency=660:sample_rate=44100:duration={music_s}",
                "-c:a", "aac", str(out["song"])], timeout=120)
    return out


def _edit(clip_us: int):
    from studio.editor import document as doc

    e = doc.new_edit()
    e, a = doc.add_clip(e, "a", clip_us)
    e = doc.update_clip(e, a, look={"name": "vivid"})
    e, _ = doc.add_clip(e, "b", clip_us)
    total = e.duration_us
    e, _ = doc.add_text(e, "Benchmark reel", 1_000_000, total - 1_000_000, background="#00000099")
    e, _ = doc.add_sticker(e, "builtin:star", 0, total, x=0.8, y=0.15)
    e, _ = doc.add_music(e, "song", 2_000_000, volume=0.5, fade_in_us=1_000_000)
    return e


def _hand_written(edit, sources: dict[str, Path], overlays: list, out: Path) -> list[str]:
    """The same reel as an expert would write it (1920x1080 -> centre crop 608x1080 -> 1080x1920)."""
    total = edit.duration_us / 1e6
    clip = edit.clips[0].source_out_us / 1e6
    music = edit.music[0]
    sticker, text = overlays
    fc = (
        f"[0:v]fps=30,crop=607.5:1080:656.25:0,scale=1080:1920:out_color_matrix=bt709:out_range=tv,format=yuv420p,"
        f"eq=contrast=1.12:saturation=1.35,setsar=1[v0];"
        f"[1:v]fps=30,crop=607.5:1080:656.25:0,scale=1080:1920:out_color_matrix=bt709:out_range=tv,format=yuv420p,"
        f"setsar=1[v1];"
        f"[0:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a0];"
        f"[1:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a1];"
        f"[v0][a0][v1][a1]concat=n=2:v=1:a=1[v][a];"
        f"[2:v]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[st];"
        f"[v][st]overlay=x={sticker.x}:y={sticker.y}:eof_action=repeat:"
        f"enable='between(t,{sticker.start_us / 1e6},{sticker.end_us / 1e6})'[v2];"
        f"[3:v]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[tx];"
        f"[v2][tx]overlay=x={text.x}:y={text.y}:eof_action=repeat:"
        f"enable='between(t,{text.start_us / 1e6},{text.end_us / 1e6})'[v3];"
        f"[v3]setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv[vout];"
        f"[4:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,volume=0.5,"
        f"afade=t=in:st=0:d={music.fade_in_us / 1e6},adelay=delays={music.start_us // 1000}:all=1[m];"
        f"[a][m]amix=inputs=2:duration=first:normalize=0:dropout_transition=0[aout]"
    )
    return ["-loglevel", "error", "-y", "-t", f"{clip}", "-i", str(sources["a"]), "-t", f"{clip}", "-i",
            str(sources["b"]), "-i", str(sticker.path), "-i", str(text.path),
            "-t", f"{total - music.start_us / 1e6}", "-i", str(sources["song"]),
            "-filter_complex", fc, "-map", "[vout]", "-map", "[aout]",
            "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-r", "30", "-fps_mode", "cfr", "-colorspace", "bt709", "-color_primaries", "bt709",
            "-color_trc", "bt709", "-color_range", "tv", "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2",
            "-movflags", "+faststart", "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact",
            "-frames:v", str(round(total * 30)), str(out)]


def _timed(argv: list[str]) -> float:
    from studio.media import ffmpeg

    t0 = time.perf_counter()
    subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", *argv], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=1800)
    return time.perf_counter() - t0


def run(full: bool) -> list[dict]:
    from studio.editor.overlays import ensure_gui, rasterize
    from studio.editor.render_graph import build_render
    from studio.media.ref import MediaRef
    from studio.media import probe

    ensure_gui()
    clip_s = 15.0 if full else 2.5
    reps = 2 if full else 1
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        folder = Path(tmp)
        sources = _make_sources(folder, clip_s, 2 * clip_s)
        assets = {}
        for key, path in sources.items():
            assets[key] = MediaRef.probed(path, id=key)
        edit = _edit(int(clip_s * 1_000_000))
        overlay_dir = folder / "overlays"
        ours = build_render(edit, assets, out=folder / "ours.mp4", overlay_dir=overlay_dir)
        reference = _hand_written(edit, sources, rasterize(edit, 1080, 1920, overlay_dir), folder / "ref.mp4")
        t_ref, t_ours = [], []
        for _ in range(reps):
            t_ref.append(_timed(reference))
            t_ours.append(_timed(ours))
        ratio = min(t_ours) / min(t_ref)
        reel_s = edit.duration_us / 1e6
        same_length = abs(probe.probe(folder / "ours.mp4").duration_us - probe.probe(folder / "ref.mp4").duration_us)
    note = f"{reel_s:.0f} s reel, best of {reps}: ours {min(t_ours):.2f} s, hand-written {min(t_ref):.2f} s"
    return [
        {"name": "export_vs_handwritten_ffmpeg", "value": ratio, "unit": "x", "target": "<= 1.05",
         "ok": ratio <= 1.05, "note": note},
        {"name": "export_realtime_factor", "value": reel_s / min(t_ours), "unit": "x realtime", "target": "info",
         "ok": None, "note": f"1080x1920 H.264 veryfast on {os.cpu_count()} cores; lengths differ by "
                             f"{same_length / 1000:.0f} ms"},
    ]


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for row in run(full="--quick" not in sys.argv):
        print(row)
