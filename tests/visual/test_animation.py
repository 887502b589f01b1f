"""Animated text and stickers: a title pops in and slides out, a sticker travels and grows along
its keyframes — the preview shows each frame as the export draws it."""

from __future__ import annotations

import numpy as np
import pytest
from visual_helpers import decode_frames, psnr, solid_take

from studio.editor.document import US, Edit, add_sticker, add_text
from studio.editor.export import render_to_file
from studio.editor.preview import PreviewCompositor
from studio.media.ref import MediaRef

SIZE = (360, 640)


@pytest.fixture(scope="module")
def backdrop(tmp_path_factory):
    return solid_take(tmp_path_factory.mktemp("anim") / "backdrop.mp4", "0x404060", seconds=3, size="360x640")


@pytest.mark.parametrize("enter", ["pop", "typewriter"])
def test_animated_overlays_preview_as_they_export(enter, backdrop, tmp_path, qapp):
    assets = {"g": MediaRef("g", backdrop, "video", 0, 360, 640, 30.0, 3 * US, True)}
    edit = Edit.from_dict({"canvas": {"preset": "custom", "width": 360, "height": 640, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "g", "source_in_us": 0, "source_out_us": 3 * US}]})
    edit, _ = add_text(edit, "Hello beat", 300_000, 2_700_000, y=0.3,
                       animate={"enter": enter, "exit": "slide", "enter_us": 600_000, "exit_us": 500_000})
    edit, _ = add_sticker(edit, "builtin:star", 0, 3 * US, keys=[{"t_us": 0, "x": 0.2, "y": 0.7, "scale": 0.5},
                                                                   {"t_us": 2 * US, "x": 0.8, "y": 0.7, "scale": 1.5}])
    frames = decode_frames(render_to_file(edit, assets, tmp_path / "anim.mp4", overlay_dir=tmp_path / "ov"), SIZE)
    assert len(frames) == 90
    compositor = PreviewCompositor(edit, assets, cache_dir=tmp_path / "cache", size=SIZE)
    try:
        for n in (12, 20, 45, 78):
            t = -(-n * US // 30)
            assert psnr(compositor.exact_frame(t), frames[n]) >= 35, n
            assert psnr(compositor.fast_frame(t), frames[n]) >= 33, n
    finally:
        compositor.close()
    # things move: the sticker's place and the title's look differ between frames
    assert psnr(frames[12], frames[45]) < 30
    star_row = frames[:, int(0.7 * 640)].astype(int)
    bright = [np.flatnonzero(np.abs(star_row[n] - [64, 64, 96]).max(axis=1) > 60) for n in (5, 50)]
    assert bright[0].mean() < bright[1].mean() - 60                    # it travelled to the right
    assert len(bright[1]) > len(bright[0]) * 1.5                         # and grew
