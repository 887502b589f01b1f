"""Rasterize text and sticker overlays once, to RGBA PNGs, for both preview and export.

Drawing text with Qt (bundled fonts, below) rather than ffmpeg's drawtext means the preview and the
export composite the very same pixels: each overlay becomes one PNG at the output scale plus the
pixel position of its top-left corner, and the render graph overlays that image between its start
and end times. Files are named by a hash of everything that affects their pixels, so an unchanged
overlay is never drawn twice.

Fonts: Inter for Latin text, then — per character, through Qt's family fallback list — Noto Color
Emoji (colour bitmaps, drawn in colour by any FreeType), a Noto Sans CJK subset, Noto Sans Arabic
and Noto Sans Devanagari, all bundled under resources/fonts and registered once by ``load_fonts``.
The machine's own fonts come only after them, so a text looks the same on every computer.

QtGui painting needs a QGuiApplication; ``ensure_gui()`` makes an offscreen one for headless use
(CLI, tests). QPainter on a QImage is safe in worker threads once the application exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from studio.cachedir import evict_lru, touch
from studio.editor.captions import (BOX_COLOR, MAX_STATE_RASTERS, caption_centre, display_spans, safe_zone,
                                    word_states)
from studio.editor.document import Edit, Sticker, TextOverlay
from studio.errors import StudioError
from studio.paths import resource

log = logging.getLogger(__name__)

FONT_ROOT = "fonts"          # resources/fonts/<family folder>/*.otf|*.ttf, each with its licence
FONT_FAMILY = "Inter"
EMOJI_FAMILY = "Noto Color Emoji"
# Tried in this order for every character Inter lacks (emoji, CJK, Arabic, Devanagari).
FALLBACK_FAMILIES = (EMOJI_FAMILY, "Noto Sans CJK SC", "Noto Sans Arabic", "Noto Sans Devanagari")
_RASTER_VERSION = 3   # bump when drawing changes so cached PNGs are redrawn
_CAPTION_RASTER_VERSION = 1
# Sizes and positions are multiples of ALIGN canvas pixels, so a half- or quarter-size preview
# scales each overlay by a whole factor and places it exactly where the export has it.
ALIGN = 4
_lock = threading.Lock()
_fonts_loaded = False
_app = None


class OverlayError(StudioError, RuntimeError):
    """An overlay cannot be drawn (e.g. its sticker image is missing); ``str(e)`` is for the creator."""


@dataclass(frozen=True)
class RasterOverlay:
    """One overlay ready to composite: PNG file, top-left corner in output pixels, visible time."""
    id: str
    path: Path
    x: int
    y: int
    width: int
    height: int
    start_us: int
    end_us: int


OVERLAY_CACHE_CAP = 128 << 20  # bytes of rasterized overlays kept in cache/overlays
_enums_primed = False

def _prime_qt_enums() -> None:
    """Create the Qt enum types the rasterizer uses, once, under ``_lock``: shiboken makes them
    lazily on first access, and two threads making one at once can leave the loser with
    "type object 'Qt' has no attribute 'AspectRatioMode'" (seen in an export beside a thumbnail)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    for owner, names in ((Qt, ("AlignmentFlag", "AspectRatioMode", "PenCapStyle", "PenJoinStyle", "PenStyle",
                                "TextFlag", "TransformationMode")), (QImage, ("Format",)),
                         (QPainter, ("RenderHint",))):
        for name in names:
            getattr(owner, name)


def ensure_gui() -> None:
    """Make sure a QGuiApplication exists (fonts and painting need one)."""
    global _app, _enums_primed
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication

    with _lock:
        if not _enums_primed:
            _prime_qt_enums()
            _enums_primed = True
        inst = QCoreApplication.instance()
        if inst is not None:
            if not isinstance(inst, QGuiApplication):
                raise OverlayError("Text overlays need the graphics system, which this process did not start.")
            return
        if threading.current_thread() is not threading.main_thread():
            raise OverlayError("Text overlays can only be drawn once the app has started.")
        # Headless: we only paint into images, so no display is needed.
        _app = QGuiApplication(["studio", "-platform", os.environ.get("QT_QPA_PLATFORM", "offscreen")])


def load_fonts() -> tuple[str, ...]:
    """Register every bundled font with Qt (once per process) and return the family list text is
    drawn with: Inter first, then the fallbacks. Needs a QGuiApplication (``ensure_gui``)."""
    global _fonts_loaded
    with _lock:
        if not _fonts_loaded:
            from PySide6.QtGui import QFontDatabase

            files = sorted(p for p in resource(FONT_ROOT).glob("*/*") if p.suffix.lower() in (".otf", ".ttf"))
            for f in files:
                if QFontDatabase.addApplicationFont(str(f)) < 0:
                    log.warning("the bundled font %s could not be loaded", f)
            # Characters that are emoji by default (🐦, ✨) take the colour font even when an
            # earlier family has a plain glyph for them.
            if EMOJI_FAMILY in QFontDatabase.families():
                QFontDatabase.setApplicationEmojiFontFamilies([EMOJI_FAMILY])
            _fonts_loaded = True
        return (FONT_FAMILY, *FALLBACK_FAMILIES)


def text_font(pixel_size: int, *, bold: bool = False):
    """The QFont overlays are drawn with (bundled families, in fallback order)."""
    from PySide6.QtGui import QFont

    ensure_gui()
    font = QFont(FONT_FAMILY)
    font.setFamilies(list(load_fonts()))
    font.setPixelSize(max(4, int(pixel_size)))
    font.setBold(bold)
    return font


def builtin_stickers() -> dict[str, Path]:
    """Bundled sticker name -> PNG path (resources/stickers)."""
    return {p.stem: p for p in sorted(resource("stickers").glob("*.png"))}


def sticker_file(source: str, asset_path: Callable[[str], Path] | None = None) -> Path:
    """The image file of a sticker source ("builtin:NAME" or "asset:ID"). Raises OverlayError."""
    if source.startswith("builtin:"):
        path = builtin_stickers().get(source[8:])
        if path is None:
            raise OverlayError(f"The bundled sticker “{source[8:]}” does not exist.")
        return path
    if source.startswith("asset:") and asset_path is not None:
        path = Path(asset_path(source[6:]))
        if not path.is_file():
            raise OverlayError(f"The sticker image “{path.name}” is missing from the media library.")
        return path
    raise OverlayError("A sticker's image could not be found.")


def _digest(payload: dict) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _qcolor(text: str):
    from PySide6.QtGui import QColor

    # Documents store #RRGGBBAA (CSS order); Qt parses 8 digits as #AARRGGBB.
    if len(text) == 9:
        c = QColor(text[:7])
        c.setAlpha(int(text[7:], 16))
        return c
    return QColor(text)


def _rotated(img, degrees: float):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTransform

    if not degrees % 360:
        return img
    return img.transformed(QTransform().rotate(degrees), Qt.TransformationMode.SmoothTransformation)


def draw_text(t: TextOverlay, out_w: int, out_h: int):
    """A QImage (ARGB32 premultiplied) of a text overlay at output scale, rotated."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QFontMetricsF, QImage, QPainter

    font = text_font(round(t.size * out_h), bold=t.bold)
    align = {"left": Qt.AlignmentFlag.AlignLeft, "center": Qt.AlignmentFlag.AlignHCenter,
             "right": Qt.AlignmentFlag.AlignRight}[t.align]
    flags = int(align) | int(Qt.TextFlag.TextWordWrap)
    metrics = QFontMetricsF(font)
    box = metrics.boundingRect(QRectF(0, 0, out_w * 0.9, out_h * 4), flags, t.text or " ")
    pad = round(font.pixelSize() * 0.3) if t.background else round(font.pixelSize() * 0.1)
    w, h = int(box.width()) + 2 * pad + 2, int(box.height()) + 2 * pad + 2
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QPainter(img)
    p.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    if t.background:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_qcolor(t.background))
        p.drawRoundedRect(QRectF(0, 0, w, h), pad * 0.8, pad * 0.8)
    p.setFont(font)
    p.setPen(_qcolor(t.color))
    p.drawText(QRectF(pad, pad, w - 2 * pad, h - 2 * pad), flags, t.text)
    p.end()
    return _rotated(img, t.rotation)


def draw_sticker(s: Sticker, file: Path, out_w: int):
    """A QImage of a sticker scaled to its width on the output, rotated, with its opacity."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    ensure_gui()
    src = QImage(str(file))
    if src.isNull():
        raise OverlayError(f"The sticker image “{file.name}” cannot be read.")
    width = max(2, round(s.scale * out_w))
    height = max(2, round(src.height() * width / max(src.width(), 1)))
    scaled = src.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied).scaled(
        width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    if s.opacity < 1:
        faded = QImage(scaled.size(), QImage.Format.Format_ARGB32_Premultiplied)
        faded.fill(0)
        p = QPainter(faded)
        p.setOpacity(s.opacity)
        p.drawImage(0, 0, scaled)
        p.end()
        scaled = faded
    return _rotated(scaled, s.rotation)


def _aligned(img):
    from PySide6.QtGui import QImage, QPainter

    w, h = -(-img.width() // ALIGN) * ALIGN, -(-img.height() // ALIGN) * ALIGN
    if (w, h) == (img.width(), img.height()):
        return img
    padded = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    padded.fill(0)
    p = QPainter(padded)
    p.drawImage((w - img.width()) // 2, (h - img.height()) // 2, img)
    p.end()
    return padded


def _save(img, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp.png")
    if not img.save(str(tmp), "PNG"):
        raise OverlayError("An overlay image could not be written; is the disk full?")
    os.replace(tmp, path)


def _place(item, out_w: int, out_h: int, path: Path, size: tuple[int, int]) -> RasterOverlay:
    w, h = size
    x = round((item.x * out_w - w / 2) / ALIGN) * ALIGN
    y = round((item.y * out_h - h / 2) / ALIGN) * ALIGN
    return RasterOverlay(id=item.id, path=path, x=x, y=y,
                         width=w, height=h, start_us=item.start_us, end_us=item.end_us)


def rasterize(edit: Edit, out_w: int, out_h: int, cache_dir: Path,
              asset_path: Callable[[str], Path] | None = None) -> list[RasterOverlay]:
    """Every sticker then every text (texts stay on top), ready to composite on an ``out_w`` x
    ``out_h`` output.

    Each overlay is drawn once at canvas size; a smaller output (preview) gets that image scaled
    down (cached too), so preview and export composite the same pixels. ``asset_path(asset_id)``
    resolves stickers the user imported. Raises OverlayError.
    """
    cw, ch = edit.canvas.width, edit.canvas.height
    full = _rasterize_canvas(edit, cw, ch, cache_dir, asset_path)
    if (out_w, out_h) == (cw, ch):
        return full
    return [_scaled(item, out_w / cw) for item in full]


def _rasterize_canvas(edit: Edit, out_w: int, out_h: int, cache_dir: Path,
                      asset_path: Callable[[str], Path] | None) -> list[RasterOverlay]:
    out: list[RasterOverlay] = []
    for s in edit.stickers:
        file = sticker_file(s.source, asset_path)
        st = file.stat()
        key = _digest({"v": _RASTER_VERSION, "kind": "sticker", "src": str(file), "size": st.st_size,
                       "mtime": st.st_mtime_ns, "scale": s.scale, "rot": s.rotation, "op": s.opacity, "w": out_w})
        out.append(_cached(cache_dir / f"s-{key}.png", lambda s=s, f=file: draw_sticker(s, f, out_w), s, out_w, out_h))
    for t in edit.texts:
        key = _digest({"v": _RASTER_VERSION, "kind": "text", "t": [t.text, t.font, t.size, t.color, t.background,
                                                                    t.align, t.bold, t.rotation], "wh": [out_w, out_h]})
        out.append(_cached(cache_dir / f"t-{key}.png", lambda t=t: draw_text(t, out_w, out_h), t, out_w, out_h))
    out.extend(_captions(edit, out_w, out_h, cache_dir))
    return out


def _captions(edit: Edit, out_w: int, out_h: int, cache_dir: Path) -> list[RasterOverlay]:
    """The word-timed captions, on top of everything (see "captions" at the end of this module)."""
    return caption_rasters(edit, out_w, out_h, cache_dir)


def _scaled(item: RasterOverlay, k: float) -> RasterOverlay:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    w, h = max(1, round(item.width * k)), max(1, round(item.height * k))
    path = item.path.with_name(f"{item.path.stem}-{w}x{h}.png")
    if not path.is_file():
        img = QImage(str(item.path))
        if img.isNull():
            raise OverlayError("An overlay image in the cache could not be read; try again.")
        _save(img.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation),
              path)
    return RasterOverlay(id=item.id, path=path, x=round(item.x * k), y=round(item.y * k), width=w, height=h,
                         start_us=item.start_us, end_us=item.end_us)


def _cached(path: Path, draw, item, out_w: int, out_h: int) -> RasterOverlay:
    from PySide6.QtGui import QImageReader

    if touch(path):
        size = QImageReader(str(path)).size()
        if size.isValid():
            return _place(item, out_w, out_h, path, (size.width(), size.height()))
    img = _aligned(draw())
    _save(img, path)
    # Every size a resize drag passes through lands here; keep the folder bounded (rebuilt on demand).
    evict_lru(path.parent, OVERLAY_CACHE_CAP, (".png",))
    return _place(item, out_w, out_h, path, (img.width(), img.height()))


# --- captions (studio.editor.captions says what and when; this draws them) --------------------

def _layout(words: list[str], font, max_w: float) -> tuple[list[tuple[float, int]], float, float]:
    """Greedy word wrap: per word (x, line number), and the block's width and line height."""
    from PySide6.QtGui import QFontMetricsF

    m = QFontMetricsF(font)
    space = m.horizontalAdvance(" ")
    lines: list[list[int]] = [[]]
    widths = [0.0]
    for i, w in enumerate(words):
        adv = m.horizontalAdvance(w)
        if lines[-1] and widths[-1] + space + adv > max_w:
            lines.append([])
            widths.append(0.0)
        widths[-1] += (space if lines[-1] else 0.0) + adv
        lines[-1].append(i)
    block_w = max(widths)
    pos: list[tuple[float, int]] = [(0.0, 0)] * len(words)
    for n, (idx, lw) in enumerate(zip(lines, widths)):
        x = (block_w - lw) / 2
        for i in idx:
            pos[i] = (x, n)
            x += m.horizontalAdvance(words[i]) + space
    return pos, block_w, m.height() * len(lines)


def draw_caption(words: list[str], style, out_w: int, out_h: int, max_w_frac: float,
                 active: int | None, shown: int | None):
    """A QImage (ARGB32 premultiplied) of one caption line in ``style``: ``active`` is the word being
    spoken (highlighted in karaoke), ``shown`` how many words are visible (pop-in); None = all."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QFontMetricsF, QImage, QPainter, QPainterPath, QPen

    font = text_font(round(style.size * out_h), bold=True)
    m = QFontMetricsF(font)
    pos, bw, bh = _layout(words, font, out_w * max_w_frac)
    px = font.pixelSize()
    pad = round(px * 0.35)
    stroke = max(2.0, px * 0.12) if style.preset != "box" else 0.0
    w, h = int(bw + 2 * pad + 2 * stroke) + 2, int(bh + 2 * pad + 2 * stroke) + 2
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QPainter(img)
    p.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    if style.preset == "box":
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_qcolor(BOX_COLOR))
        p.drawRoundedRect(QRectF(0, 0, w, h), pad, pad)
    ox, oy = pad + stroke, pad + stroke + m.ascent()
    for i, (word, (x, line)) in enumerate(zip(words, pos)):
        if shown is not None and i >= shown:
            break
        path = QPainterPath()
        path.addText(QPointF(ox + x, oy + line * m.height()), font, word)
        if stroke:
            p.strokePath(path, QPen(_qcolor("#000000"), stroke * 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                    Qt.PenJoinStyle.RoundJoin))
        colour = style.highlight if (style.preset == "karaoke" and i == active) else style.color
        p.fillPath(path, _qcolor(colour))
    p.end()
    return img


def caption_rasters(edit: Edit, out_w: int, out_h: int, cache_dir: Path) -> list:
    """The captions as RasterOverlay items at ``out_w`` x ``out_h`` (the canvas size): one per line,
    or one per word state for karaoke and pop-in, each enabled only while its words are spoken.
    Nothing when the captions are a sidecar (not burned in)."""
    caps = edit.captions
    if not caps.segments or not caps.style.burn_in:
        return []
    st = caps.style
    z = safe_zone(edit)
    max_w = 1 - z.left - z.right
    spans = display_spans(caps)
    per_word = st.preset in ("karaoke", "pop") and sum(len(s.words) for s, _, _ in spans) <= MAX_STATE_RASTERS
    out = []
    for seg, start, end in spans:
        words = [w.text for w in seg.words]
        states = word_states(seg, start, end) if per_word else [(None, start, end)]
        for k, a, b in states:
            active = k if st.preset == "karaoke" else None
            shown = (k + 1) if (st.preset == "pop" and k is not None) else None
            key = _digest({"v": _CAPTION_RASTER_VERSION, "kind": "caption", "w": words, "a": active, "n": shown,
                           "st": [st.preset, st.size, st.color, st.highlight], "mw": max_w, "wh": [out_w, out_h]})
            probe_h = st.size * 1.6 * (1 + sum(len(x) for x in words) // 40)  # placement before drawing
            item = SimpleNamespace(id=f"caption:{seg.id}:{k if k is not None else 'all'}", start_us=a, end_us=b,
                                   x=caption_centre(edit, probe_h)[0], y=0.0)
            raster = _cached(cache_dir / f"c-{key}.png",
                             lambda words=words, active=active, shown=shown: draw_caption(
                                 words, st, out_w, out_h, max_w, active, shown), item, out_w, out_h)
            out.append(_placed(edit, raster, out_w, out_h))
    return out


def _placed(edit: Edit, raster, out_w: int, out_h: int):
    """Move a caption picture to its row inside the safe zone (its height is known once drawn)."""
    import dataclasses

    cx, cy = caption_centre(edit, raster.height / out_h)
    x = round((cx * out_w - raster.width / 2) / ALIGN) * ALIGN
    y = round((cy * out_h - raster.height / 2) / ALIGN) * ALIGN
    return dataclasses.replace(raster, x=x, y=y)
