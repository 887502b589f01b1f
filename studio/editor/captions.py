"""Captions as edit data: the rules, the operations and the drawing of a reel's word-timed captions.

The captions track (``Edit.captions``, schema v4) holds segments — the lines shown together — of
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
``studio.editor.overlays.caption_rasters`` draws each once and enables it by time, bounded by
``MAX_STATE_RASTERS``. The rules (``validate_captions``) live with the document they check.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from studio.editor.document import CAPTION_MAX_WORD_CHARS as MAX_WORD_CHARS
from studio.editor.document import CAPTION_POSITIONS as POSITIONS
from studio.editor.document import CAPTION_PRESETS as PRESETS
from studio.editor.document import CAPTION_SIZE_RANGE as SIZE_RANGE
from studio.editor.document import (Captions, CaptionSegment, CaptionStyle, CaptionWord, Edit, EditError, new_id,
                                    validate)
PAUSE_US = 600_000                       # a pause this long starts a new line
MAX_LINE_CHARS = 28
MAX_LINE_WORDS = 6
MAX_LINE_US = 3_000_000
HOLD_US = 200_000                        # a line stays this long after its last word (never into the next)
MAX_STATE_RASTERS = 600                  # karaoke/pop-in pictures per reel; beyond, one picture per line
BOX_COLOR = "#000000B4"


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


def set_line_text(edit: Edit, segment_id: str, text: str) -> Edit:
    """Retype a caption line: each word keeps its timing, so the line must keep its number of words
    (a word can be corrected, not added; split or merge lines to regroup them)."""
    seg = segment(edit, segment_id)
    words = str(text).split()
    if len(words) != len(seg.words):
        raise EditError(f"This line has {len(seg.words)} words, each timed to the speech: type {len(seg.words)} "
                        f"words (you typed {len(words)}). To regroup words, split or merge lines.")
    for i, w in enumerate(words):
        if w != seg.words[i].text:
            edit = fix_word(edit, segment_id, i, w)
    return edit


def word_index_at(text: str, cursor: int) -> int:
    """Which word of ``text`` a text cursor at ``cursor`` is in or just before (0-based): where
    "split the line here" splits."""
    before = str(text)[:max(0, cursor)]
    n = len(before.split())
    if before and not before[-1].isspace():
        n -= 1   # inside (or at the end of) a word: that word
    return max(0, n)


def set_caption_style(edit: Edit, **changes: Any) -> Edit:
    """preset, size, position, color, highlight, burn_in."""
    known = {f.name for f in dataclasses.fields(CaptionStyle)} - {"extra"}
    for k in changes:
        if k not in known:
            raise EditError(f"“{k}” cannot be changed here.")
    e = copy.deepcopy(edit)
    e.captions.style = CaptionStyle.from_dict({**e.captions.style.to_dict(), **changes}, "captions.style.")
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


def caption_at(edit: Edit, t_us: int) -> CaptionSegment | None:
    """The caption line on screen at timeline time ``t_us`` (None in a pause)."""
    for seg, a, b in display_spans(edit.captions):
        if a <= t_us < b:
            return seg
    return None


__all__ = ["PRESETS", "POSITIONS", "SIZE_RANGE", "MAX_WORD_CHARS", "SAFE_ZONES", "SafeZone", "safe_zone",
           "break_lines", "set_transcript", "clear_captions", "segment", "fix_word", "split_segment",
           "merge_segments", "set_caption_style", "shift_for_cuts", "display_spans", "word_states", "caption_centre",
           "caption_at", "CaptionStyle"]
