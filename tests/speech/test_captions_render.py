"""Captions on screen: drawn by the overlay rasterizer for preview and export alike, on screen only
while words are spoken, karaoke with one picture per word state."""

from __future__ import annotations

import numpy as np
import pytest
from speech_helpers import psnr

from studio.editor import captions as C
from studio.editor.document import Edit, trim_clip
from studio.editor.export import export_draft
from studio.editor.overlays import rasterize
from studio.editor.preview import PreviewCompositor
from studio.media import ffmpeg
from studio.speech.engines import choose_engine
from studio.speech.transcribe import transcribe_edit

US = 1_000_000
SIZE = (540, 960)
FPS = 30


def _export_frame(path, n) -> np.ndarray:
    raw = ffmpeg.run(["-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{n}),scale={SIZE[0]}:{SIZE[1]}",
                      "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], timeout=60).stdout
    return np.frombuffer(raw, np.uint8).reshape(SIZE[1], SIZE[0], 3)


@pytest.fixture
def captioned(studio, talking_head, gui):
    """The end of sentence one, the 2 s pause and the start of sentence two, transcribed as a reel."""
    draft = studio.drafts.import_files([talking_head.path])
    edit = Edit.from_dict(draft.edit)
    pause_start, pause_end = talking_head.silences[0]
    edit = trim_clip(edit, edit.clips[0].id, in_us=pause_start - 1_500_000, out_us=pause_end + 1_000_000)
    words = transcribe_edit(edit, studio.drafts.media_refs(draft), choose_engine("builtin"))
    edit = C.set_transcript(edit, words, engine="builtin")
    studio.drafts.update_edit(draft.id, edit.to_dict())
    return draft, edit, (1_500_000, 3_500_000)   # the pause on this reel's timeline


def test_captions_show_only_while_words_are_spoken_and_preview_equals_export(studio, captioned, tmp_path) -> None:
    draft, edit, (pause_a, pause_b) = captioned
    spoken = [w for w in edit.captions.words if w.end_us <= pause_a]
    assert spoken, "the recogniser heard the end of the first sentence"
    word = spoken[-1]
    n_word, n_pause = (word.start_us + word.end_us) // 2 * FPS // US, (pause_a + pause_b) // 2 * FPS // US
    t_word, t_pause = round(n_word * US / FPS), round(n_pause * US / FPS)   # the start of those frames
    assert C.caption_at(edit, t_word) is not None and C.caption_at(edit, t_pause) is None
    out = export_draft(studio, draft.id, tmp_path / "reel.mp4")
    assets = studio.drafts.media_refs(studio.drafts.get(draft.id))
    with_caps = PreviewCompositor(edit, assets, cache_dir=studio.layout.cache, size=SIZE)
    bare = PreviewCompositor(C.clear_captions(edit), assets, cache_dir=studio.layout.cache, size=SIZE)
    try:
        shown, exported = with_caps.exact_frame(t_word), _export_frame(out, n_word)
        assert psnr(shown, exported) >= 35                                   # preview = export, caption frame
        assert psnr(bare.exact_frame(t_word), exported) < 33, "the caption is really in the picture"
        # in the pause: no caption, in the preview and in the export
        assert psnr(with_caps.exact_frame(t_pause), bare.exact_frame(t_pause)) >= 60
        assert psnr(bare.exact_frame(t_pause), _export_frame(out, n_pause)) >= 35
        # the caption sits in the lower safe zone, clear of the platform's bottom fifth
        diff = np.abs(shown.astype(int) - bare.exact_frame(t_word).astype(int)).sum(axis=2) > 40
        rows = np.nonzero(diff.any(axis=1))[0]
        assert rows.size and rows.min() > SIZE[1] * 0.5 and rows.max() < SIZE[1] * (1 - C.SAFE_ZONES["9:16"].bottom)
    finally:
        with_caps.close()
        bare.close()


def test_karaoke_draws_one_picture_per_word_state_and_box_one_per_line(studio, captioned) -> None:
    _draft, edit, _pause = captioned
    n_words, n_lines = len(edit.captions.words), len(edit.captions.segments)
    karaoke = [r for r in rasterize(edit, 1080, 1920, studio.layout.cache / "ov") if r.id.startswith("caption:")]
    assert len(karaoke) == n_words
    for seg, a, b in C.display_spans(edit.captions):
        states = sorted((r for r in karaoke if r.id.startswith(f"caption:{seg.id}:")), key=lambda r: r.start_us)
        assert states[0].start_us == a and states[-1].end_us == b
        assert all(x.end_us == y.start_us for x, y in zip(states, states[1:])), "one state at a time"
        assert len({r.path for r in states}) == len(states), "each state is its own picture"
    boxed = C.set_caption_style(edit, preset="box", position="upper")
    box = [r for r in rasterize(boxed, 1080, 1920, studio.layout.cache / "ov") if r.id.startswith("caption:")]
    assert len(box) == n_lines
    assert all(r.y >= 1920 * C.SAFE_ZONES["9:16"].top - 4 for r in box)
    sidecar = C.set_caption_style(edit, burn_in=False)
    assert not [r for r in rasterize(sidecar, 1080, 1920, studio.layout.cache / "ov") if r.id.startswith("caption:")]
