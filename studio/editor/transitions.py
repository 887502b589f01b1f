"""Transitions between clips: where they fall on the timeline, how the export draws them, and the
same drawing in numpy for the preview's scrubbing frames.

A clip's ``transition`` hands over to the next clip: the two overlap for ``k`` whole canvas frames
(``Edit.transition_frames``), which shortens the reel by ``k`` frames. The export joins the clips
with ffmpeg's ``xfade`` (``XFADE`` maps our kinds to its transitions); ``blend`` is the same
per-pixel arithmetic as libavfilter/vf_xfade.c for the kinds we use, so the preview blends the way
the export does. Sound does not overlap: the outgoing clip's sound stops where the incoming clip
starts (``audio_ranges``), so the picture's transition never doubles speech.

    spans = transition_spans(edit)           # [(Span), ...] in timeline order
    lo, hi = expand_range(edit, start, end)   # a partial render must contain whole transitions
    frame = blend("crossfade", a_rgb, b_rgb, progress)   # progress 1 -> 0, like xfade's
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import copy

from studio.editor.document import US, TRANSITION_KINDS, Clip, Edit, EditError, Transition, validate

# Our kinds -> ffmpeg xfade transitions. A whip pan is a fast horizontal smear: xfade's hblur.
XFADE = {"crossfade": "fade", "dip": "fadeblack", "slide": "slideleft", "zoom": "zoomin", "whip": "hblur"}
assert set(XFADE) == set(TRANSITION_KINDS)


def frame_index(t_us: int, fps: int) -> int:
    return int(round(t_us * fps / US))


def frame_start(n: int, fps: int) -> int:
    """The start (µs) of canvas frame ``n``."""
    return -(-n * US // fps)


@dataclass(frozen=True)
class Span:
    """One transition on the timeline: clips ``index`` and ``index + 1`` overlap on frames
    [first_frame, first_frame + frames)."""
    index: int
    kind: str
    first_frame: int
    frames: int

    def start_us(self, fps: int) -> int:
        return frame_start(self.first_frame, fps)

    def end_us(self, fps: int) -> int:
        return frame_start(self.first_frame + self.frames, fps)

    def progress(self, frame: int) -> float:
        """xfade's progress on a canvas frame of the span: 1 on its first frame, 1/k on its last."""
        return 1.0 - (frame - self.first_frame) / self.frames


def transition_spans(edit: Edit) -> list[Span]:
    """Every transition that lasts at least one frame, in timeline order."""
    fps = edit.canvas.fps
    ranges = edit.clip_ranges()
    out = []
    for i, k in enumerate(edit.transition_frames()):
        if k <= 0:
            continue
        clip, _a, b = ranges[i]
        _nc, na, _nb = ranges[i + 1]
        first = frame_index(na, fps)
        frames = frame_index(b, fps) - first
        if frames > 0:
            out.append(Span(i, clip.transition.kind, first, frames))
    return out


def span_at(edit: Edit, t_us: int) -> Span | None:
    """The transition on screen at timeline time ``t_us`` (a frame start), if any."""
    n = frame_index(t_us, edit.canvas.fps)
    for s in transition_spans(edit):
        if s.first_frame <= n < s.first_frame + s.frames:
            return s
    return None


def expand_range(edit: Edit, start_us: int, end_us: int) -> tuple[int, int]:
    """[start, end) grown so that no transition is cut in two: xfade must see a transition whole
    to blend each of its frames the way the full export does."""
    fps = edit.canvas.fps
    lo, hi = start_us, end_us
    for s in transition_spans(edit):
        a, b = s.start_us(fps), s.end_us(fps)
        if a < lo < b:
            lo = a
        if a < hi < b:
            hi = b
    return lo, hi


def audio_ranges(edit: Edit) -> list[tuple[Clip, int, int]]:
    """(clip, start, end) of each clip's sound: the timeline ranges with overlaps given to the
    incoming clip, so the sounds join end to end like the pictures' frames."""
    ranges = edit.clip_ranges()
    out = []
    for i, (c, a, b) in enumerate(ranges):
        end = ranges[i + 1][1] if i + 1 < len(ranges) else b
        out.append((c, a, min(b, end)))
    return out


# --- editing ------------------------------------------------------------------------------------

def set_transition(edit: Edit, after: int, kind: str | None, duration_us: int | None = None) -> Edit:
    """Put a transition between clip ``after`` (1-based, as the creator counts) and the next one;
    ``kind=None`` removes it. Raises EditError with a sentence."""
    e = copy.deepcopy(edit)
    if not 1 <= after < len(e.clips):
        if len(e.clips) < 2:
            raise EditError("A transition needs two clips; add another clip first.")
        raise EditError(f"There is no clip after clip {after}; choose 1 to {len(e.clips) - 1}.")
    clip = e.clips[after - 1]
    if kind is None:
        clip.transition = None
        validate(e)
        return e

    if kind not in TRANSITION_KINDS:
        raise EditError(f"Unknown transition “{kind}”; choose one of {', '.join(TRANSITION_KINDS)}.")
    clip.transition = Transition(kind=kind, duration_us=int(duration_us if duration_us is not None else 500_000))
    validate(e)
    return e


# --- the preview's blending (libavfilter/vf_xfade.c, per pixel, RGB instead of YUV) -------------

def _smoothstep(e0: float, e1: float, x: float) -> float:
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def _mix(a, b, m):
    return a * m + b * (1.0 - m)


def blend(kind: str, a: np.ndarray, b: np.ndarray, progress: float) -> np.ndarray:
    """The frame xfade draws between ``a`` (outgoing) and ``b`` (incoming), uint8 RGB (h, w, 3)."""
    p = float(progress)
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    if kind == "crossfade":
        out = _mix(fa, fb, p)
    elif kind == "dip":
        # xfade's black on our (limited-range YUV) frames is Y=0, below video black (Y=16): in RGB
        # that is -16 * 255 / 219 on every channel, clipped once the mix is done
        k = -16 * 255 / 219
        out = _mix(_mix(fa, k, _smoothstep(0.8, 1.0, p)), _mix(k, fb, _smoothstep(0.2, 1.0, p)), p)
    elif kind == "slide":
        w = a.shape[1]
        z = int(-p * w)                      # C truncates toward zero
        x = np.arange(w)
        zx = z + x
        zz = zx % w
        inside = (zx >= 0) & (zx < w)
        out = np.where(inside[None, :, None], fb[:, zz], fa[:, zz])
    elif kind == "zoom":
        out = _zoomin(fa, fb, p)
    elif kind == "whip":
        out = _hblur(fa, fb, p)
    else:
        raise ValueError(kind)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _zoomin(fa: np.ndarray, fb: np.ndarray, p: float) -> np.ndarray:
    h, w = fa.shape[:2]
    zf = _smoothstep(0.5, 1.0, p)
    u = np.arange(w, dtype=np.float32) / w - 0.5
    v = np.arange(h, dtype=np.float32) / h - 0.5
    iu = np.clip(np.ceil((0.5 + u * zf) * w - 0.5), 0, w - 1).astype(np.intp)
    iv = np.clip(np.ceil((0.5 + v * zf) * h - 0.5), 0, h - 1).astype(np.intp)
    zoomed = fa[iv][:, iu]
    return _mix(zoomed, fb, _smoothstep(0.0, 0.5, p))


def _hblur(fa: np.ndarray, fb: np.ndarray, p: float) -> np.ndarray:
    w = fa.shape[1]
    prog = p * 2.0 if p <= 0.5 else (1.0 - p) * 2.0
    size = 1 + int((w // 2) * prog)
    m = _mix(fa, fb, p)
    # mean over [x, x + size), the window shrinking at the right edge (as xfade's running sum does)
    c = np.concatenate([np.zeros_like(m[:, :1]), np.cumsum(m, axis=1, dtype=np.float64)], axis=1)
    x = np.arange(w)
    hi = np.minimum(x + size, w)
    return ((c[:, hi] - c[:, x]) / (hi - x)[None, :, None]).astype(np.float32)


# --- the export's joining -----------------------------------------------------------------------

def join_video(ffmpeg, edit: Edit, pictures: list, segments: list, start_us: int):  # noqa: ANN001
    """Join the segments' pictures (each exactly ``seg.frames`` long) in order: ``xfade`` where a
    transition lies wholly inside the rendered range, ``concat`` elsewhere. The result lasts the
    range's frames exactly, because each overlap is counted in the frames of both neighbours."""
    fps = edit.canvas.fps
    spans = {s.index: s for s in transition_spans(edit)}
    index_of = {c.id: i for i, c in enumerate(edit.clips)}
    first_frame = frame_index(start_us, fps)
    acc, acc_frames = pictures[0], segments[0].frames
    for prev, seg, pic in zip(segments, segments[1:], pictures[1:]):
        span = spans.get(index_of[prev.clip.id])
        if span is not None and index_of[seg.clip.id] == span.index + 1 and span.first_frame >= first_frame:
            offset = acc_frames - span.frames     # where the incoming clip's first frame lands
            acc = ffmpeg.filter([acc, pic], "xfade", transition=XFADE[span.kind],
                                duration=f"{span.frames / fps:.6f}", offset=f"{offset / fps:.6f}")
            acc_frames = offset + seg.frames
        else:
            acc = ffmpeg.concat(acc, pic, v=1, a=0)
            acc_frames += seg.frames
    return acc
