"""Captions as edit data: the rules, the operations and the drawing of a reel's word-timed captions.

The captions track (``Edit.captions``, schema v3) holds segments — the lines shown together — of
words timed on the timeline in microseconds, and one style for the whole reel. Everything here is
pure except the drawing, which paints with QtGui (like every overlay) so the preview and the export
composite the very same PNGs:

    edit = set_transcript(edit, [("welcome", 0, 400_000), ...], engine="builtin")
    edit = fix_word(edit, segment_id, 2, "pasta")
    edit = split_segment(edit, segment_id, 3)         # words 3.. start a new line
    edit = merge_segments(edit, segment_id)           # this line and the next become one
    edit = set_caption_style(edit, preset="box", position="middle")

A caption is on screen only while its words are spoken (plus a short hold, never into the next
line), so a frame inside a pause shows none. Karaoke and pop-in need one picture per word state;
``caption_rasters`` draws each once and enables it by time, bounded by ``MAX_STATE_RASTERS``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from studio.editor.document import (Captions, CaptionSegment, CaptionStyle, CaptionWord, Edit, EditError, _apply,
                                    _unique, new_id, validate)

# preset -> what the creator sees in the picker
PRESETS: dict[str, str] = {"karaoke": "Karaoke (word by word)", "pop": "Pop-in", "box": "Box", "outline": "Outline"}
POSITIONS = ("lower", "middle", "upper")
SIZE_RANGE = (0.02, 0.12)               # line height as a fraction of the canvas height
MAX_WORD_CHARS = 60
MAX_WORDS = 20_000
PAUSE_US = 600_000                       # a pause this long starts a new line
MAX_LINE_CHARS = 28
MAX_LINE_WORDS = 6
MAX_LINE_US = 3_000_000
HOLD_US = 200_000                        # a line stays this long after its last word (never into the next)
MAX_STATE_RASTERS = 600                  # karaoke/pop-in pictures per reel; beyond, one picture per line
BOX_COLOR = "#000000B4"
_RASTER_VERSION = 1
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@dataclass(frozen=True)
class SafeZone:
    """Margins of the picture the platform's buttons and texts cover, as fractions of the canvas."""
    top: float
    bottom: float
    left: float
    right: float


# Reels/Shorts/TikTok cover the bottom fifth (caption, music) and a column of buttons on the right.
SAFE_ZONES: dict[str, SafeZone] = {
    "9:16": SafeZone(top=0.12, bottom=0.22, left=0.06, right=0.14),
    "4:5": SafeZone(top=0.08, bottom=0.14, left=0.06, right=0.10),
    "1:1": SafeZone(top=0.06, bottom=0.10, left=0.06, right=0.06),
    "16:9": SafeZone(top=0.06, bottom=0.10, left=0.05, right=0.05),
}


def safe_zone(edit: Edit) -> SafeZone:
    return SAFE_ZONES.get(edit.canvas.preset, SAFE_ZONES["1:1"])


# --- rules --------------------------------------------------------------------------------------

def validate_captions(captions: Captions, ids: set[str]) -> None:
    """Raise EditError with the first problem of the captions track (``validate`` calls this)."""
    st = captions.style
    if st.preset not in PRESETS:
        raise EditError(f"Unknown caption style {st.preset!r}; choose one of {', '.join(PRESETS)}.")
    if st.position not in POSITIONS:
        raise EditError("Captions go lower, middle or upper on the picture.")
    if not SIZE_RANGE[0] <= st.size <= SIZE_RANGE[1]:
        raise EditError("The caption size must be between 2 % and 12 % of the picture height.")
    if not _COLOR.match(st.color) or not _COLOR.match(st.highlight):
        raise EditError("Caption colours are written #RRGGBB or #RRGGBBAA.")
    if not isinstance(captions.language, str) or len(captions.language) > 16:
        raise EditError("The edit is damaged: the captions' language is not a language code.")
    previous_end, count = 0, 0
    for i, seg in enumerate(captions.segments, 1):
        _unique(ids, seg.id)
        if not seg.words:
            raise EditError(f"The edit is damaged: caption line {i} has no words.")
        for w in seg.words:
            count += 1
            if not w.text.strip() or len(w.text) > MAX_WORD_CHARS or "\n" in w.text:
                raise EditError(f"The edit is damaged: caption line {i} has an empty or overlong word.")
            if w.start_us < 0 or w.end_us <= w.start_us:
                raise EditError(f"The edit is damaged: a word of caption line {i} ends before it starts.")
            if w.start_us < previous_end:
                raise EditError(f"The edit is damaged: the words of caption line {i} overlap or are out of order.")
            previous_end = w.end_us
    if count > MAX_WORDS:
        raise EditError("The captions have more words than a reel can hold.")


# --- operations (pure: each returns a new, validated Edit) --------------------------------------

Word = tuple[str, int, int]      # (text, start_us, end_us)


def break_lines(words: Iterable[Word]) -> list[CaptionSegment]:
    """Group timed words into caption lines: a new line after a pause, or when a line is full."""
    segments: list[CaptionSegment] = []
    line: list[CaptionWord] = []
    for text, start, end in words:
        text = " ".join(str(text).split())
        if not text or end <= start:
            continue
        if line:
            chars = sum(len(w.text) + 1 for w in line) + len(text)
            if (start - line[-1].end_us >= PAUSE_US or chars > MAX_LINE_CHARS or len(line) >= MAX_LINE_WORDS
                    or end - line[0].start_us > MAX_LINE_US):
                segments.append(CaptionSegment(id=new_id(), words=line))
                line = []
        line.append(CaptionWord(text=text[:MAX_WORD_CHARS], start_us=int(start), end_us=int(end)))
    if line:
        segments.append(CaptionSegment(id=new_id(), words=line))
    return segments


def set_transcript(edit: Edit, words: Sequence[Word], *, engine: str = "", language: str = "en") -> Edit:
    """Replace the captions' words (keeping their style) with a transcript, broken into lines."""
    e = copy.deepcopy(edit)
    e.captions.segments = break_lines(sorted(words, key=lambda w: w[1]))
    e.captions.engine, e.captions.language = engine, language
    return _done(e)


def clear_captions(edit: Edit) -> Edit:
    e = copy.deepcopy(edit)
    e.captions.segments = []
    e.captions.engine = ""
    return _done(e)


def segment(edit: Edit, segment_id: str) -> CaptionSegment:
    for s in edit.captions.segments:
        if s.id == segment_id:
            return s
    raise EditError("That caption line is no longer in the edit.")


def fix_word(edit: Edit, segment_id: str, index: int, text: str) -> Edit:
    """Correct one word's text (its timing stays). An empty text removes the word."""
    e = copy.deepcopy(edit)
    seg = segment(e, segment_id)
    if not 0 <= index < len(seg.words):
        raise EditError("That word is no longer in the caption line.")
    text = " ".join(str(text).split())
    if len(text) > MAX_WORD_CHARS:
        raise EditError(f"A caption word can be at most {MAX_WORD_CHARS} characters.")
    if text:
        seg.words[index].text = text
    else:
        del seg.words[index]
        if not seg.words:
            e.captions.segments.remove(seg)
    return _done(e)


def split_segment(edit: Edit, segment_id: str, index: int) -> Edit:
    """Words ``index``.. of a line become a line of their own."""
    e = copy.deepcopy(edit)
    seg = segment(e, segment_id)
    if not 0 < index < len(seg.words):
        raise EditError("Pick a word inside the line to split it there.")
    right = CaptionSegment(id=new_id(), words=seg.words[index:])
    seg.words = seg.words[:index]
    e.captions.segments.insert(e.captions.segments.index(seg) + 1, right)
    return _done(e)


def merge_segments(edit: Edit, segment_id: str) -> Edit:
    """A line and the one after it become one line."""
    e = copy.deepcopy(edit)
    seg = segment(e, segment_id)
    i = e.captions.segments.index(seg)
    if i + 1 >= len(e.captions.segments):
        raise EditError("That is the last caption line; there is none after it to merge with.")
    seg.words += e.captions.segments.pop(i + 1).words
    return _done(e)


def set_caption_style(edit: Edit, **changes: Any) -> Edit:
    """preset, size, position, color, highlight, burn_in."""
    e = copy.deepcopy(edit)
    _apply(e.captions.style, changes)
    return _done(e)


def shift_for_cuts(captions: Captions, removed: Sequence[tuple[int, int]]) -> Captions:
    """The captions after the timeline ranges ``removed`` were cut out: later words move earlier by
    what was removed before them; a word inside a removed range is dropped, one straddling a cut is
    clipped to what is left of it."""
    ranges = sorted((int(a), int(b)) for a, b in removed if b > a)

    def moved(t: int) -> int:
        shift = 0
        for a, b in ranges:
            if t >= b:
                shift += b - a
            elif t > a:
                shift += t - a
        return t - shift

    out = copy.deepcopy(captions)
    for seg in out.segments:
        kept = []
        for w in seg.words:
            s, t = moved(w.start_us), moved(w.end_us)
            if t > s:
                w.start_us, w.end_us = s, t
                kept.append(w)
        seg.words = kept
    out.segments = [s for s in out.segments if s.words]
    return out


def _done(e: Edit) -> Edit:
    validate(e)
    return e


# --- when and where a caption shows ---------------------------------------------------------------

def display_spans(captions: Captions) -> list[tuple[CaptionSegment, int, int]]:
    """(line, first shown, last shown + 1) for every line: from its first word to its last word plus
    ``HOLD_US``, never into the next line."""
    segs = captions.segments
    out = []
    for i, s in enumerate(segs):
        end = s.end_us + HOLD_US
        if i + 1 < len(segs):
            end = min(end, segs[i + 1].start_us)
        out.append((s, s.start_us, max(end, s.end_us)))
    return out


def word_states(seg: CaptionSegment, start: int, end: int) -> list[tuple[int, int, int]]:
    """(index of the word being spoken, from, to): one picture of a karaoke/pop-in line each."""
    out = []
    for k, w in enumerate(seg.words):
        a = start if k == 0 else w.start_us
        b = seg.words[k + 1].start_us if k + 1 < len(seg.words) else end
        if b > a:
            out.append((k, a, b))
    return out


def caption_centre(edit: Edit, block_h: float) -> tuple[float, float]:
    """The centre (fractions of the canvas) of a caption block ``block_h`` high (a fraction)."""
    z = safe_zone(edit)
    x = (z.left + 1 - z.right) / 2
    pos = edit.captions.style.position
    if pos == "upper":
        y = z.top + block_h / 2
    elif pos == "middle":
        y = 0.5
    else:
        y = 1 - z.bottom - block_h / 2
    return x, y


# --- drawing ------------------------------------------------------------------------------------

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


def draw_caption(words: list[str], style: CaptionStyle, out_w: int, out_h: int, max_w_frac: float,
                 active: int | None, shown: int | None):
    """A QImage (ARGB32 premultiplied) of one caption line in ``style``: ``active`` is the word being
    spoken (highlighted in karaoke), ``shown`` how many words are visible (pop-in); None = all."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QFontMetricsF, QImage, QPainter, QPainterPath, QPen

    from studio.editor.overlays import _qcolor, text_font

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
    from studio.editor.overlays import _cached, _digest

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
            key = _digest({"v": _RASTER_VERSION, "kind": "caption", "w": words, "a": active, "n": shown,
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

    from studio.editor.overlays import ALIGN

    cx, cy = caption_centre(edit, raster.height / out_h)
    x = round((cx * out_w - raster.width / 2) / ALIGN) * ALIGN
    y = round((cy * out_h - raster.height / 2) / ALIGN) * ALIGN
    return dataclasses.replace(raster, x=x, y=y)


def caption_at(edit: Edit, t_us: int) -> CaptionSegment | None:
    """The caption line on screen at timeline time ``t_us`` (None in a pause)."""
    for seg, a, b in display_spans(edit.captions):
        if a <= t_us < b:
            return seg
    return None


__all__ = ["PRESETS", "POSITIONS", "SAFE_ZONES", "SafeZone", "safe_zone", "validate_captions", "break_lines",
           "set_transcript", "clear_captions", "segment", "fix_word", "split_segment", "merge_segments",
           "set_caption_style", "shift_for_cuts", "display_spans", "word_states", "caption_rasters",
           "caption_at", "draw_caption", "CaptionStyle"]
