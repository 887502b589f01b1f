"""Preview = export: the preview compositor shows what the export will contain."""

from __future__ import annotations

import numpy as np
import pytest
from editor_ui_helpers import as_image, psnr

from studio.editor.document import Edit, add_sticker, add_text, trim_clip, update_clip
from studio.editor.export import export_draft
from studio.editor.preview import PreviewCompositor
from studio.media.ref import MediaRef
from studio.media import ffmpeg

US = 1_000_000
SIZE = (540, 960)


@pytest.fixture
def gui(qapp):
    return qapp  # overlays are painted with QtGui


def _decode_export_frame(path, n) -> np.ndarray:
    raw = ffmpeg.run(["-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{n}),scale={SIZE[0]}:{SIZE[1]}",
                      "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], timeout=60).stdout
    return as_image(raw, *SIZE)


def test_preview_frames_match_the_exported_reel(studio, shared_media, gui, tmp_path):
    draft = studio.drafts.import_files([shared_media / "cockatoo_yuv420.mp4"])
    edit = Edit.from_dict(draft.edit)
    clip_id = edit.clips[0].id
    edit = trim_clip(edit, clip_id, in_us=500_000, out_us=3_500_000)
    edit = update_clip(edit, clip_id, look={"name": "vivid"})                       # a filter
    edit, _ = add_text(edit, "Preview = export", 500_000, 2_500_000, background="#00000099", y=0.3)
    edit, _ = add_sticker(edit, "builtin:star", 1_000_000, 3_000_000, x=0.7, y=0.7)
    studio.drafts.update_edit(draft.id, edit.to_dict())
    out = export_draft(studio, draft.id, tmp_path / "reel.mp4")

    compositor = PreviewCompositor(edit, studio.drafts.media_refs(studio.drafts.get(draft.id)),
                                   cache_dir=studio.layout.cache, size=SIZE)
    try:
        # 10 times: before, inside and after the text and the sticker
        for n in (0, 8, 15, 22, 31, 44, 52, 61, 75, 89):
            t = round(n * US / 30)
            exported = _decode_export_frame(out, n)
            shown = compositor.exact_frame(t)
            assert psnr(shown, exported) >= 30, f"frame {n}"
            # the scrubbing frame (decoder + same overlay PNGs + approximated look) stays close too
            assert psnr(compositor.fast_frame(t), exported) >= 27, f"fast frame {n}"
        # the comparison can fail: a frame 1 s away, or the frame without its overlays, is far off
        assert psnr(compositor.exact_frame(0), _decode_export_frame(out, 30)) < 30
    finally:
        compositor.close()


def test_rotated_source_shows_upright(studio, shared_media, gui):
    path = shared_media / "video_rotation_90.mp4"     # coded 100x60, display matrix -90°
    draft = studio.drafts.import_files([path])
    edit = Edit.from_dict(draft.edit)
    assets = studio.drafts.media_refs(draft)
    compositor = PreviewCompositor(edit, assets, cache_dir=studio.layout.cache, size=SIZE)
    try:
        exact, fast = compositor.exact_frame(0), compositor.fast_frame(0)
    finally:
        compositor.close()
    # Reference: ffmpeg's own upright decode (60x100), scaled to cover 540x960 and centred.
    raw = ffmpeg.run(["-v", "error", "-i", str(path), "-vf", "scale=576:960,crop=540:960", "-frames:v", "1",
                      "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], timeout=60).stdout
    upright = as_image(raw, *SIZE)
    upside_down = np.ascontiguousarray(upright[::-1])  # same pixels, wrong way up
    for shown in (exact, fast):
        assert psnr(shown, upright) >= 25
        assert psnr(shown, upright) > psnr(shown, upside_down) + 3


@pytest.mark.parametrize("look", ["none", "vivid", "mono", "warm", "cool", "fade", "noir", "vintage",
                                  {"brightness": 0.5, "contrast": -0.4}, {"saturation": -0.8, "warmth": 0.8}])
def test_scrubbing_frames_approximate_every_look(gui, shared_media, tmp_path, look):

    asset = MediaRef("a", shared_media / "cockatoo_yuv420.mp4", "video", 0, 1280, 720, 20.0, 14 * US, False)
    edit = Edit.from_dict({"schema_version": 2, "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "a", "source_in_us": 0, "source_out_us": 2 * US}]})
    edit = update_clip(edit, "c", look=look if isinstance(look, dict) else {"name": look})
    compositor = PreviewCompositor(edit, {"a": asset}, cache_dir=tmp_path, size=(270, 480))
    try:
        assert psnr(compositor.fast_frame(US), compositor.exact_frame(US)) >= 30
    finally:
        compositor.close()


@pytest.mark.parametrize("name", ["cockatoo.mp4", "cockatoo_yuv420.mp4", "realshort.mp4", "video_rotation_90.mp4",
                                  "minimal.mp4", "white.mp4"])
def test_every_valid_shared_file_previews_at_start_middle_and_end(gui, shared_media, tmp_path, name):
    from studio.editor.preview import last_frame_us
    from studio.media.probe import probe

    info = probe(shared_media / name)
    w, h = info.video.display_size
    asset = MediaRef("a", shared_media / name, "video", info.video.rotation, w, h, info.video.fps or 30.0,
                         info.duration_us, info.has_audio)
    edit = Edit.from_dict({"schema_version": 2, "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "a", "source_in_us": 0,
                                      "source_out_us": info.duration_us}]})
    compositor = PreviewCompositor(edit, {"a": asset}, cache_dir=tmp_path, size=(270, 480))
    try:
        for t in (0, edit.duration_us // 2, edit.duration_us - 1, edit.duration_us + US):
            exact, fast = compositor.exact_frame(t), compositor.fast_frame(t)
            assert exact.shape == fast.shape == (480, 270, 3)
            assert psnr(exact, fast) >= 25, t
        assert last_frame_us(edit) < edit.duration_us
    finally:
        compositor.close()
