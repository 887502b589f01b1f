"""Text that can say anything: emoji in colour, CJK, Arabic and Devanagari drawn by the bundled
fonts, the same pixels in the preview and in the export."""

from __future__ import annotations

import numpy as np
import pytest
from editor_ui_helpers import as_image, psnr

from studio.editor import overlays
from studio.editor.document import Edit, TextOverlay, add_text, trim_clip
from studio.editor.export import export_draft
from studio.editor.preview import PreviewCompositor
from studio.media import ffmpeg

US = 1_000_000
SAY = "🐦 ✨ 你好 مرحبا नमस्ते"
TOFU = "\U0010FFFD"          # a private-use code point no font has: what a missing glyph looks like
PREVIEW = (540, 960)


@pytest.fixture
def gui(qapp):
    return qapp


def _rgba(img) -> np.ndarray:  # noqa: ANN001 - QImage
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return arr.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width()].copy()


def _colourful(rgb: np.ndarray) -> int:
    """Pixels that are clearly not grey (text is white on black: only emoji bring colour)."""
    c = rgb[..., :3].astype(np.int16)
    return int(((c.max(-1) - c.min(-1)) > 80).sum())


def _text(text: str) -> np.ndarray:
    return _rgba(overlays.draw_text(TextOverlay(id="t", text=text, start_us=0, end_us=US, size=0.05,
                                                background="#000000FF", bold=False), 1080, 1920))


def test_every_script_is_drawn_by_a_bundled_font(gui):
    from PySide6.QtGui import QFontDatabase

    families = overlays.load_fonts()
    assert families[0] == "Inter"
    for family in families:                      # bundled, so the machine's fonts don't matter
        assert family in QFontDatabase.families(), family
    assert QFontDatabase.applicationEmojiFontFamilies() == ["Noto Color Emoji"]
    # Emoji come out in colour; a missing glyph (tofu) has none.
    assert _colourful(_text("🐦")) > 500
    assert _colourful(_text("✨")) > 500
    assert _colourful(_text(TOFU)) == 0
    # Each script draws real glyphs: ink, and not the picture of as many missing glyphs.
    for word in ("你好", "مرحبا", "नमस्ते"):
        drawn, tofu = _text(word), _text(TOFU * len(word))
        ink = (drawn[..., :3].max(-1) > 128).sum()
        assert ink > 300, word
        if drawn.shape == tofu.shape:
            assert not np.array_equal(drawn, tofu), word


def _export_frame(path, n: int, size=None) -> np.ndarray:
    w, h = size or (1080, 1920)
    raw = ffmpeg.run(["-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{n}),scale={w}:{h}", "-frames:v", "1",
                      "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], timeout=120).stdout
    return as_image(raw, w, h)


def _box(item, frame: np.ndarray) -> np.ndarray:  # noqa: ANN001 - RasterOverlay
    return frame[item.y:item.y + item.height, item.x:item.x + item.width]


def test_emoji_are_burned_into_the_export_in_colour_and_the_preview_shows_the_same(studio, shared_media, gui,
                                                                                   tmp_path):
    draft = studio.drafts.import_files([shared_media / "white.mp4"])      # a plain white picture
    edit = Edit.from_dict(draft.edit)
    edit = trim_clip(edit, edit.clips[0].id, in_us=0, out_us=US)
    edit, _ = add_text(edit, SAY, 0, US, background="#000000FF", y=0.5)
    studio.drafts.update_edit(draft.id, edit.to_dict())
    out = export_draft(studio, draft.id, tmp_path / "says.mp4")

    canvas = overlays.rasterize(edit, 1080, 1920, studio.layout.cache / "overlays")
    assert len(canvas) == 1
    exported = _export_frame(out, 10)
    in_export = _box(canvas[0], exported)
    assert _colourful(in_export) > 1000           # 🐦 and ✨ in colour, in the file
    # Against the same reel with tofu in place of the emoji: no colour there at all.
    tofu_edit, _ = add_text(Edit.from_dict(edit.to_dict() | {"texts": []}), SAY.replace("🐦", TOFU).replace("✨", TOFU),
                            0, US, background="#000000FF", y=0.5)
    studio.drafts.update_edit(draft.id, tofu_edit.to_dict())
    tofu_out = export_draft(studio, draft.id, tmp_path / "tofu.mp4")
    tofu_item = overlays.rasterize(tofu_edit, 1080, 1920, studio.layout.cache / "overlays")[0]
    assert _colourful(_box(tofu_item, _export_frame(tofu_out, 10))) < 50

    # The preview composites the very same raster (scaled): its frames match the export's there.
    compositor = PreviewCompositor(edit, studio.drafts.media_refs(studio.drafts.get(draft.id)),
                                   cache_dir=studio.layout.cache, size=PREVIEW)
    try:
        item = compositor.overlays()[0]
        small = _export_frame(out, 10, PREVIEW)
        t = round(10 * US / 30)
        for shown in (compositor.exact_frame(t), compositor.fast_frame(t)):
            assert psnr(_box(item, shown), _box(item, small)) >= 30
            assert _colourful(_box(item, shown)) > 200
    finally:
        compositor.close()
