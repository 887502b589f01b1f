"""``studio.media.ffmpeg.spawn``: the one way the app starts a streaming ffmpeg (preview frames,
playback sound, export with progress), with cancellation and ffmpeg's own words on failure."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from studio.media import ffmpeg

ROOT = Path(__file__).resolve().parents[2]


def test_stdout_streams_raw_frames():
    with ffmpeg.spawn(["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
                       "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], stdout=True) as proc:
        data = proc.stdout.read()
        assert proc.wait() == 0
    assert len(data) == 10 * 64 * 48 * 3


def test_progress_reports_the_output_time_as_it_goes(tmp_path):
    seen: list[int] = []
    proc = ffmpeg.spawn(["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=2",
                         "-c:v", "libx264", "-preset", "ultrafast", "-y", str(tmp_path / "out.mp4")],
                        progress=seen.append)
    with proc:
        assert proc.wait() == 0
    assert seen and seen == sorted(seen)
    assert seen[-1] == pytest.approx(2_000_000, abs=100_000)
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_cancel_kills_it_and_says_so():
    cancel = threading.Event()
    seen: list[int] = []

    def progress(t: int) -> None:
        seen.append(t)
        cancel.set()           # the creator pressed Cancel once it had started

    proc = ffmpeg.spawn(["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30:duration=600",
                         "-f", "null", "-"], progress=progress, cancel=cancel)
    with proc:
        code = proc.wait()
    assert proc.cancelled and code != 0
    assert seen


def test_a_callable_cancel_and_an_untouched_one():
    proc = ffmpeg.spawn(["-v", "error", "-re", "-f", "lavfi", "-i", "anullsrc=duration=600", "-f", "null", "-"],
                        cancel=lambda: True)
    with proc:
        assert proc.wait() != 0
    assert proc.cancelled
    with ffmpeg.spawn(["-v", "error", "-f", "lavfi", "-i", "anullsrc=duration=0.1", "-f", "null", "-"],
                      cancel=lambda: False) as done:
        assert done.wait() == 0
    assert not done.cancelled


def test_failures_keep_ffmpegs_last_words(tmp_path):
    with ffmpeg.spawn(["-v", "error", "-i", str(tmp_path / "gone.mp4"), "-f", "null", "-"]) as proc:
        assert proc.wait() != 0
    assert "gone.mp4" in proc.error_text


def test_progress_and_stdout_cannot_share_the_pipe():
    with pytest.raises(ValueError):
        ffmpeg.spawn(["-version"], stdout=True, progress=lambda _t: None)


def test_editor_modules_start_no_process_themselves():
    """Preview, playback and export go through studio.media: none imports subprocess."""
    offenders = []
    for path in sorted((ROOT / "studio" / "editor").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "subprocess" for n in names):
                offenders.append(path.name)
    assert offenders == []
