"""Animated overlays: in/out presets (fade, pop, slide, typewriter) and keyframed place and size.

One description, two readers: ``motion`` writes each moving quantity of an overlay — its centre,
its size factor, its opacity, how much of a typed text shows — as an expression in ``t`` (seconds
on the rendered range) in the common subset of ffmpeg's expression language and Python
(``+ - * /``, ``clip``, ``sin``, ``floor``, ``PI``). The export hands the strings to ffmpeg's
overlay/scale/fade/geq filters; the preview evaluates the very same strings (``evaluate``), so
both place every frame alike.

Presets (p runs 0 → 1 over the animation's length): fade: opacity p; pop: size 0.3 + 0.7p + 0.3
sin(πp) (a bounce past full size), opacity 2p; slide: rises from 8 % of the canvas height below
with opacity p (and sinks out); typewriter: the text shows left to right, a character at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studio.editor.document import US, Sticker, TextOverlay

SLIDE = 0.08        # fraction of the canvas height a slide travels


def piecewise(values: list[float], ts_s: list[float], var: str) -> str:
    """The straight lines through (ts, values) at ``var``, held at both ends: a flat sum of
    clipped ramps (no nesting, so many keys stay a short expression)."""
    terms = [f"{values[0]:.6f}"]
    for (t0, v0), (t1, v1) in zip(zip(ts_s, values), zip(ts_s[1:], values[1:])):
        if t1 <= t0 or v1 == v0:
            continue
        terms.append(f"{(v1 - v0) / (t1 - t0):.6f}*clip({var}-{t0:.6f},0,{t1 - t0:.6f})")
    return "+".join(terms)


@dataclass(frozen=True)
class Motion:
    """Expressions in ``t`` for one overlay on an output of ``w``×``h`` (None: does not change)."""
    cx: str              # centre, output pixels
    cy: str
    scale: str | None    # size factor of the rasterized image
    fade_in: tuple[float, float] | None    # (start s, length s): opacity rises linearly (ffmpeg fade)
    fade_out: tuple[float, float] | None
    reveal: str | None   # typewriter: the shown fraction of the width, 0..1
    chars: int = 0

    @property
    def moves(self) -> bool:
        return any((self.scale, self.fade_in, self.fade_out, self.reveal)) or not _constant(self.cx) \
            or not _constant(self.cy)


def _constant(expr: str) -> bool:
    return "t" not in expr


def animated_source(edit, item_id: str) -> "TextOverlay | Sticker | None":  # noqa: ANN001 - Edit
    """The text or sticker a rasterized item comes from, when it moves; None for a still one and
    for rasters that are no overlay of the edit (caption lines are timed by their words instead)."""
    for item in (*edit.texts, *edit.stickers):
        if item.id == item_id:
            return item if animated(item) else None
    return None


def animated(item: TextOverlay | Sticker) -> bool:
    a = item.animate
    return bool(item.keys) or (a is not None and (a.enter != "none" or a.exit != "none"))


def _lengths(item: TextOverlay | Sticker) -> tuple[float, float]:
    """Enter and exit lengths (s), shortened to share the overlay's time when they would overlap."""
    a = item.animate
    if a is None:
        return 0.0, 0.0
    dur = (item.end_us - item.start_us) / US
    enter = a.enter_us / US if a.enter != "none" else 0.0
    exit_ = a.exit_us / US if a.exit != "none" else 0.0
    if enter + exit_ > dur > 0:
        k = dur / (enter + exit_)
        enter, exit_ = enter * k, exit_ * k
    return enter, exit_


def motion(item: TextOverlay | Sticker, w: int, h: int, start_us: int, base_centre: tuple[float, float]) -> Motion:
    """The overlay's motion on a render starting at timeline ``start_us``; ``base_centre`` is the
    rasterized image's centre (output pixels) when nothing moves it."""
    a0 = (item.start_us - start_us) / US       # the overlay's start on the rendered range
    b0 = (item.end_us - start_us) / US
    if item.keys:
        ts = [a0 + k.t_us / US for k in item.keys]
        # keys move the centre; the raster already sits at item.x/y, so offsets are relative to it
        cx = piecewise([base_centre[0] + (k.x - item.x) * w for k in item.keys], ts, "t")
        cy = piecewise([base_centre[1] + (k.y - item.y) * h for k in item.keys], ts, "t")
        scale = piecewise([k.scale for k in item.keys], ts, "t")
        if all(k.scale == item.keys[0].scale for k in item.keys) and item.keys[0].scale == 1.0:
            scale = None
    else:
        cx, cy, scale = f"{base_centre[0]:.3f}", f"{base_centre[1]:.3f}", None
    enter, exit_ = _lengths(item)
    anim = item.animate
    fade_in = fade_out = reveal = None
    chars = 0
    if enter > 0:
        p = f"clip((t-{a0:.6f})/{enter:.6f},0,1)"
        if anim.enter == "fade":
            fade_in = (a0, enter)
        elif anim.enter == "pop":
            scale = _times(scale, f"(0.3+0.7*{p}+0.3*sin(PI*{p}))")
            fade_in = (a0, enter / 2)
        elif anim.enter == "slide":
            cy = f"{cy}+{SLIDE * h:.3f}*(1-{p})*(1-{p})"
            fade_in = (a0, enter)
        elif anim.enter == "typewriter":
            chars = max(1, len(item.text.replace(" ", "").replace("\n", ""))) if isinstance(item, TextOverlay) else 1
            reveal = f"floor({chars}*{p})/{chars}"
    if exit_ > 0:
        q = f"clip(({b0:.6f}-t)/{exit_:.6f},0,1)"
        if anim.exit == "fade":
            fade_out = (b0 - exit_, exit_)
        elif anim.exit == "pop":
            scale = _times(scale, f"(0.3+0.7*{q}+0.3*sin(PI*{q}))")
            fade_out = (b0 - exit_ / 2, exit_ / 2)
        elif anim.exit == "slide":
            cy = f"{cy}+{SLIDE * h:.3f}*(1-{q})*(1-{q})"
            fade_out = (b0 - exit_, exit_)
    return Motion(cx, cy, scale, fade_in, fade_out, reveal, chars)


def _times(a: str | None, b: str) -> str:
    return b if a is None else f"({a})*{b}"


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


_NAMES = {"clip": _clip, "sin": math.sin, "floor": math.floor, "PI": math.pi, "max": max, "min": min}


def evaluate(expr: str, t_s: float) -> float:
    """The value of one of ``motion``'s expressions at ``t`` (seconds), as ffmpeg computes it.

    Only our own generated strings come here (numbers and the few names above)."""
    return float(eval(expr, {"__builtins__": {}}, {**_NAMES, "t": t_s}))  # noqa: S307 - our own expression


def opacity(m: Motion, t_s: float) -> float:
    """The fade filters' factor at ``t``: linear over each fade, as ffmpeg's fade(alpha=1) draws."""
    f = 1.0
    if m.fade_in is not None:
        st, d = m.fade_in
        f *= _clip((t_s - st) / d, 0.0, 1.0) if d > 0 else 1.0
    if m.fade_out is not None:
        st, d = m.fade_out
        f *= _clip(1.0 - (t_s - st) / d, 0.0, 1.0) if d > 0 else 1.0
    return f


# --- the export's filters -----------------------------------------------------------------------

def overlay_stream(ffmpeg, item_png: str, m: Motion, width: int, height: int, fps: int,  # noqa: ANN001
                   a_s: float, b_s: float):
    """The animated overlay image as a stream of frames from ``a_s`` to ``b_s`` (range seconds),
    sized, faded and revealed per frame; its top-left goes at ``overlay_xy(m)``."""
    img = ffmpeg.input(item_png, loop=1, framerate=fps, t=f"{max(b_s - a_s, 1 / fps):.6f}").video
    # into the video's colours first (BT.709, as every overlay), then shaped frame by frame
    img = img.filter("setpts", f"PTS-STARTPTS+{a_s:.6f}/TB").filter(
        "scale", out_color_matrix="bt709", out_range="tv").filter("format", "yuva444p")
    if m.reveal is not None:
        t = m.reveal.replace("t", "T")
        img = img.filter("geq", lum="lum(X,Y)", cb="cb(X,Y)", cr="cr(X,Y)", a=f"alpha(X,Y)*lt(X,W*({t}))")
    if m.scale is not None:
        img = img.filter("scale", w=f"max(2,{width}*({m.scale}))", h=f"max(2,{height}*({m.scale}))", eval="frame")
    for fade, kind in ((m.fade_in, "in"), (m.fade_out, "out")):
        if fade is None:
            continue
        st, d = fade
        if st >= 0:
            img = img.filter("fade", t=kind, st=f"{st:.6f}", d=f"{d:.6f}", alpha=1)
        else:   # a render starting mid-fade (a preview): fade cannot start before 0, geq can
            ramp = f"(T-{st:.6f})/{d:.6f}" if kind == "in" else f"1-(T-{st:.6f})/{d:.6f}"
            img = img.filter("geq", lum="lum(X,Y)", cb="cb(X,Y)", cr="cr(X,Y)", a=f"alpha(X,Y)*clip({ramp},0,1)")
    return img


def overlay_xy(m: Motion) -> tuple[str, str]:
    return f"({m.cx})-overlay_w/2", f"({m.cy})-overlay_h/2"


# --- the preview's compositing ------------------------------------------------------------------

def frame_of(m: Motion, rgba, t_s: float):  # noqa: ANN001 - premultiplied RGBA ndarray
    """The overlay as it shows at ``t``: (premultiplied RGBA, left, top) — or None when invisible."""
    import cv2
    import numpy as np

    img = rgba
    h0, w0 = img.shape[:2]
    if m.reveal is not None:
        shown = int(w0 * evaluate(m.reveal, t_s))
        img = img.copy()
        img[:, shown:] = 0
    if m.scale is not None:
        s = evaluate(m.scale, t_s)
        w, h = max(2, int(w0 * s)), max(2, int(h0 * s))
        if (w, h) != (w0, h0):
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    f = opacity(m, t_s)
    if f <= 0:
        return None
    if f < 1:
        img = (img.astype(np.float32) * f + 0.5).astype(np.uint8)
    h, w = img.shape[:2]
    x = int(evaluate(m.cx, t_s) - w / 2) // 2 * 2
    y = int(evaluate(m.cy, t_s) - h / 2) // 2 * 2
    return img, x, y
