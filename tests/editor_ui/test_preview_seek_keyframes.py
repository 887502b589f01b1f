"""A preview you can trust: after any seek past a keyframe the preview shows what the export has.

cockatoo.mp4 is High 4:4:4 from x264 core 142, whose chroma bug libavcodec corrects only when it
knows the encoder's build — which it reads from the first frame's SEI. A decoder that starts at
the keyframes at 3.8 s or 7.25 s (every seek) never sees it and paints green/grey blocks.
"""

from __future__ import annotations

import random

import av
import cv2
import numpy as np
import pytest
from editor_ui_helpers import as_image, psnr

from studio.editor.document import Edit, trim_clip
from studio.editor.export import export_draft
from studio.editor.preview import PreviewCompositor
from studio.media import ffmpeg
from studio.media.decoder import DecoderPool, VideoDecoder, decoder_hints
from studio.media.frames import frame_jpeg

US = 1_000_000
SIZE = (540, 960)
FPS = 30
TIMES = (4.2, 5.7, 8.3)          # past the keyframes at 3.8 s and 7.25 s


@pytest.fixture
def gui(qapp):
    return qapp


def _export_frame(path, n) -> np.ndarray:
    raw = ffmpeg.run(["-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{n}),scale={SIZE[0]}:{SIZE[1]}",
                      "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], timeout=120).stdout
    return as_image(raw, *SIZE)


def _linear_frames(path) -> list[tuple[float, np.ndarray]]:
    """Every frame decoded from the first one on, no seek: the ground truth."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [(float(f.pts * s.time_base), f.to_ndarray(format="rgb24")) for f in c.decode(s)]


def _on_screen(frames, t: float) -> np.ndarray:
    return [img for pts, img in frames if pts <= t + 1e-9][-1]


def test_the_file_tells_its_encoder_build(shared_media):
    assert decoder_hints(shared_media / "cockatoo.mp4") == {"x264_build": "142"}
    assert decoder_hints(shared_media / "realshort.mp4") == {}         # not x264: nothing to say
    assert decoder_hints(shared_media / "chunk_out_of_range.mp4") == {}  # broken: opening says why


@pytest.mark.parametrize("order", [TIMES, TIMES[::-1], (4.2, 4.2, 8.3, 4.2, 5.7, 0.5, 5.7, 8.3)],
                         ids=["forward", "backward", "repeated"])
def test_decoder_is_frame_exact_after_seeks_past_odd_keyframes(shared_media, order):
    path = shared_media / "cockatoo.mp4"
    truth = _linear_frames(path)
    # rotation given = no probing decode of the first frame: the first request is a cold seek
    with VideoDecoder(path, rotation=0) as dec:
        for t in order:
            got = dec.frame_at(round(t * US))
            assert psnr(got, _on_screen(truth, t)) >= 45, f"{t} s in order {order}"


def test_preview_matches_the_export_after_any_seek(studio, shared_media, gui, tmp_path):
    draft = studio.drafts.import_files([shared_media / "cockatoo.mp4"])
    edit = Edit.from_dict(draft.edit)
    out = export_draft(studio, draft.id, tmp_path / "reel.mp4")
    exported = {t: _export_frame(out, round(t * FPS)) for t in TIMES}

    rnd = random.Random(9)
    orders = [list(TIMES), list(TIMES[::-1]), [5.7, 5.7, 4.2, 8.3, 4.2]] + [rnd.sample(TIMES, 3) for _ in range(2)]
    for order in orders:
        # a fresh compositor (and decoder) per order: its first seek is a cold one
        compositor = PreviewCompositor(edit, studio.drafts.media_refs(studio.drafts.get(draft.id)),
                                       cache_dir=studio.layout.cache, size=SIZE)
        try:
            for t in order:
                t_us = round(t * US)
                assert psnr(compositor.fast_frame(t_us), exported[t]) >= 35, f"fast frame at {t} s, {order}"
                assert psnr(compositor.exact_frame(t_us), exported[t]) >= 35, f"exact frame at {t} s, {order}"
        finally:
            compositor.close()
    # the comparison can fail: the frame half a second away is far off
    compositor = PreviewCompositor(edit, studio.drafts.media_refs(studio.drafts.get(draft.id)),
                                   cache_dir=studio.layout.cache, size=SIZE)
    try:
        assert psnr(compositor.exact_frame(round(4.7 * US)), exported[4.2]) < 30
    finally:
        compositor.close()


def test_a_clip_trimmed_past_a_keyframe_exports_and_previews_the_true_frames(studio, shared_media, gui, tmp_path):
    path = shared_media / "cockatoo.mp4"
    draft = studio.drafts.import_files([path])
    edit = Edit.from_dict(draft.edit)
    edit = trim_clip(edit, edit.clips[0].id, in_us=4_000_000, out_us=6_000_000)   # the export seeks too
    studio.drafts.update_edit(draft.id, edit.to_dict())
    out = export_draft(studio, draft.id, tmp_path / "trimmed.mp4")
    # Ground truth: the source decoded from its first frame, placed like the canvas ("fill": cover + centre).
    truth = _linear_frames(path)
    pool = DecoderPool()
    compositor = PreviewCompositor(edit, studio.drafts.media_refs(studio.drafts.get(draft.id)),
                                   cache_dir=studio.layout.cache, size=SIZE, decoders=pool)
    try:
        for n in (6, 51, 12):
            src = _on_screen(truth, 4.0 + n / FPS)
            want = cv2.resize(src, (1707, 960), interpolation=cv2.INTER_AREA)[:, 583:583 + 540]
            exported = _export_frame(out, n)
            assert psnr(exported, want) >= 30, f"exported frame {n}"
            assert psnr(compositor.exact_frame(round(n * US / FPS)), exported) >= 35, f"exact preview frame {n}"
    finally:
        compositor.close()
        pool.close()


def test_thumbnails_after_the_keyframe_are_clean(shared_media):
    path = shared_media / "cockatoo.mp4"
    truth = _on_screen(_linear_frames(path), 5.7)
    jpeg = frame_jpeg(path, 5_700_000, max_side=1280, quality=2)
    got = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert got.shape == truth.shape
    assert psnr(got, truth) >= 30
