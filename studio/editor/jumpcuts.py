"""Jump cuts: remove stretches of the timeline (the silences of a talking head) as pure edit data.

    cuts = cuts_from_silences(edit, silences, padding_us=150_000)   # never into a word
    edit = remove_ranges(edit, cuts)                                  # one new Edit: clips split/deleted

``remove_ranges`` splits the clips at the cut edges and drops what lies between, in one operation
(the undo command wraps it, so the whole removal is one undo step). Captions, texts, stickers and
the cover frame move with the picture; music stays where it is under the reel.
"""

from __future__ import annotations

import copy
from typing import Sequence

from studio.editor.captions import shift_for_cuts
from studio.editor.document import US, Edit, EditError, new_id, validate

MIN_CUT_FRAMES = 3


def _frame_floor(t: int, fps: int) -> int:
    """The start of the canvas frame ``t`` falls in (frames start at round(n * US / fps))."""
    n = t * fps // US
    while round((n + 1) * US / fps) <= t:
        n += 1
    while n > 0 and round(n * US / fps) > t:
        n -= 1
    return round(n * US / fps)


def _frame_ceil(t: int, fps: int) -> int:
    f = _frame_floor(t, fps)
    return f if f == t else _frame_floor(f + round(US / fps) + 1, fps)


def cuts_from_silences(edit: Edit, silences: Sequence[tuple[int, int]], padding_us: int) -> list[tuple[int, int]]:
    """Ranges to cut: each silence less ``padding_us`` on the sides that touch speech, kept clear of
    every captioned word, on whole canvas frames (rounded inwards), at least MIN_CUT_FRAMES long."""
    frame = edit.canvas.frame_us
    total = edit.duration_us
    words = [(w.start_us, w.end_us) for w in edit.captions.words]
    out: list[tuple[int, int]] = []
    for s, e in silences:
        a = s if s <= 0 else s + padding_us
        b = e if e >= total else e - padding_us
        pieces = [(a, b)]
        for ws, we in words:     # snap to word boundaries: a cut never comes nearer a word than the padding
            ws, we = ws - padding_us, we + padding_us
            nxt = []
            for x, y in pieces:
                if we <= x or ws >= y:
                    nxt.append((x, y))
                    continue
                if ws > x:
                    nxt.append((x, ws))
                if we < y:
                    nxt.append((we, y))
            pieces = nxt
        for x, y in pieces:
            x, y = _frame_ceil(max(0, x), edit.canvas.fps), _frame_floor(min(total, y), edit.canvas.fps)
            if y - x >= MIN_CUT_FRAMES * frame:
                out.append((x, y))
    return sorted(out)


def remove_ranges(edit: Edit, ranges: Sequence[tuple[int, int]]) -> Edit:
    """The edit with the timeline ``ranges`` cut out. Raises EditError when nothing would be left."""
    ranges = sorted((int(a), int(b)) for a, b in ranges if b > a)
    for (a1, b1), (a2, _b2) in zip(ranges, ranges[1:]):
        if a2 < b1:
            raise EditError("The cuts overlap; propose them again.")
    if not ranges:
        return edit
    e = copy.deepcopy(edit)
    frame = e.canvas.frame_us
    clips = []
    for clip, ca, cb in edit.clip_ranges():
        pieces, t = [], ca
        for a, b in ranges:
            if b <= t or a >= cb:
                continue
            if a > t:
                pieces.append((t, a))
            t = max(t, b)
        if t < cb:
            pieces.append((t, cb))
        for n, (x, y) in enumerate(pieces):
            if y - x < frame:
                continue        # a sliver shorter than a frame would show as a held frame
            c = copy.deepcopy(clip)
            if n:
                c.id = new_id()     # the first piece stays the clip it was
            c.source_in_us = clip.source_in_us + round((x - ca) * clip.speed)
            c.source_out_us = min(clip.source_out_us, clip.source_in_us + round((y - ca) * clip.speed))
            if c.source_out_us > c.source_in_us:
                clips.append(c)
    if not clips:
        raise EditError("Those cuts would remove the whole reel.")
    e.clips = clips
    e.captions = shift_for_cuts(e.captions, ranges)
    for item in [*e.texts, *e.stickers]:
        item.start_us, item.end_us = _shift_span(item.start_us, item.end_us, ranges, frame)
    e.cover.time_us = _shift_point(e.cover.time_us, ranges)
    validate(e)
    return e


def _shift_point(t: int, ranges: Sequence[tuple[int, int]]) -> int:
    shift = 0
    for a, b in ranges:
        if t >= b:
            shift += b - a
        elif t > a:
            shift += t - a
    return t - shift


def _shift_span(start: int, end: int, ranges: Sequence[tuple[int, int]], frame: int) -> tuple[int, int]:
    s, t = _shift_point(start, ranges), _shift_point(end, ranges)
    return s, max(t, s + frame)     # an overlay inside a cut keeps a frame rather than vanishing
