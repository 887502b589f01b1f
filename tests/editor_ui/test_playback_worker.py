"""The playback worker: the newest request wins, resting frames are exact, playback reaches the end."""

from __future__ import annotations

import pytest
from editor_ui_helpers import make_video, psnr

from studio.editor.document import Edit, add_text
from studio.editor.playback import PlaybackWorker
from studio.editor.preview import PreviewCompositor
from studio.media.ref import MediaRef

US = 1_000_000


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("pb") / "clip.mp4", seconds=2, fps=30, gop=30)


@pytest.fixture
def compositor(qapp, clip, tmp_path):
    asset = MediaRef("a", clip, "video", 0, 320, 240, 30.0, 2 * US, False)
    edit = Edit.from_dict({"schema_version": 2, "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "a", "source_in_us": 0, "source_out_us": 2 * US}]})
    edit, _ = add_text(edit, "hi", 0, US)
    return PreviewCompositor(edit, {"a": asset}, cache_dir=tmp_path, size=(270, 480))


@pytest.fixture
def worker(compositor):
    w = PlaybackWorker(compositor)
    frames = []
    w.frameReady.connect(lambda img, t, exact: frames.append((t, exact, img)))
    w.frames = frames
    w.start()
    yield w
    w.stop()


def test_a_scrub_burst_ends_on_the_exact_frame_of_the_last_position(qtbot, worker, compositor):
    for t in range(0, 1_500_000, 50_000):   # a fast scrub: most of these are superseded
        worker.seek(t)
    target = 1_450_000
    worker.seek(target)
    qtbot.waitUntil(lambda: bool(worker.frames) and worker.frames[-1][1], timeout=20_000)
    t, exact, img = worker.frames[-1]
    assert t == -(-43 * US // 30) and exact   # the start of canvas frame 43, rendered by the render graph
    assert len(worker.frames) < 32 * 2                     # requests were dropped, not queued
    assert img.width() == 270 and img.height() == 480


def test_exact_frame_can_be_abandoned(compositor):
    assert compositor.exact_frame(US, cancel=lambda: True) is None
    shown = compositor.exact_frame(US)
    assert psnr(shown, compositor.fast_frame(US)) > 20   # synthetic sharp edges: resampling differs a little


def test_play_runs_to_the_end_and_stops(qtbot, worker):
    with qtbot.waitSignal(worker.playingChanged, timeout=10_000, check_params_cb=lambda p: p is False):
        worker.play(1_500_000)
    assert worker.position_us >= 1_900_000
    played = [t for t, exact, _ in worker.frames if exact]
    assert played == sorted(played)


def test_reverse_shuttle_uses_the_fast_path(qtbot, worker):
    worker.play(US, rate=-2.0)
    qtbot.waitUntil(lambda: worker.position_us <= 500_000 and len(worker.frames) > 3, timeout=10_000)
    worker.pause()
    assert not any(exact for _t, exact, _img in worker.frames[:3])


def test_an_edit_is_never_lost_behind_a_newer_seek(qtbot, compositor):
    from studio.editor.document import update_overlay

    w = PlaybackWorker(compositor)   # not started: requests pile up as they would during a slow frame
    moved = update_overlay(compositor.edit, compositor.edit.texts[0].id, x=0.2)
    w.set_edit(moved)
    w.seek(500_000)
    w.play(600_000)
    boxes = []
    w.overlaysReady.connect(boxes.append)
    with qtbot.waitSignal(w.playingChanged, timeout=10_000):
        w.start()
    try:
        qtbot.waitUntil(lambda: compositor.edit is moved and bool(boxes), timeout=10_000)
    finally:
        w.stop()
