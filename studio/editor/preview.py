"""The preview compositor: the frame the export will produce at time t, at preview size.

Two paths, one picture:

* **exact** — runs the export's own render graph (``render_graph.build_render(for_preview=True)``)
  through ffmpeg for one frame, or for continuous playback from t through one long-lived pipe
  (``stream``). Same filters, same overlay PNGs, same geometry: what you see is what exports.
* **fast** — for scrubbing: the clip's frame from an open in-process decoder, placed with the render
  graph's own geometry, the look approximated with lookup tables, and the same overlay PNGs.
  The playback worker shows it while the playhead moves and replaces it with the exact frame once
  the playhead rests.

Everything here is plain Python + numpy/OpenCV (+ QtGui images for the overlay PNGs); no widgets.
``audio_argv`` gives the matching sound (the export's audio graph) for playback.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from studio.editor import animation, overlays, render_graph as rg, transitions
from studio.editor.document import Clip, Edit, frame_start_us, last_frame_us
from studio.editor.looks import look_filters
from studio.editor.render_graph import build_render, clip_geometry
from studio.editor.transitions import audio_ranges
from studio.errors import StudioError
from studio.media import ffmpeg
from studio.media.decoder import DecoderPool
from studio.media.ref import MediaRef
from studio.visual.reframe_path import window_offset

log = logging.getLogger(__name__)
US = 1_000_000


class PreviewError(StudioError, RuntimeError):
    """The preview cannot show this frame; ``str(e)`` is for the creator."""


def preview_size(edit: Edit, max_side: int = 960) -> tuple[int, int]:
    """Preview resolution: the canvas scaled so its long side is at most ``max_side`` (even numbers)."""
    cw, ch = edit.canvas.width, edit.canvas.height
    s = min(1.0, max_side / max(cw, ch))
    return max(2, round(cw * s / 2) * 2), max(2, round(ch * s / 2) * 2)


# The edit document owns frame arithmetic; the preview and playback use its answers.
snap_to_frame = frame_start_us


# --- geometry ------------------------------------------------------------------------------------

def _paste(canvas: np.ndarray, img: np.ndarray, x: int, y: int) -> None:
    """Copy img onto canvas at (x, y), cutting whatever falls outside."""
    H, W = canvas.shape[:2]
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    canvas[y0:y1, x0:x1] = img[y0 - y:y1 - y, x0 - x:x1 - x]


def _blend_premultiplied(canvas: np.ndarray, rgba: np.ndarray, x: int, y: int) -> None:
    """Alpha-composite a premultiplied RGBA image over an RGB canvas at (x, y), clipped."""
    H, W = canvas.shape[:2]
    h, w = rgba.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    src = rgba[y0 - y:y1 - y, x0 - x:x1 - x]
    dst = canvas[y0:y1, x0:x1].astype(np.uint16)
    inv = 255 - src[..., 3:4].astype(np.uint16)
    out = src[..., :3].astype(np.uint16) + (dst * inv + 127) // 255
    canvas[y0:y1, x0:x1] = np.minimum(out, 255).astype(np.uint8)


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    if rgb.shape[1] == w and rgb.shape[0] == h:
        return rgb
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC)


# --- looks, approximated (the exact path runs the real filters) ----------------------------------

_RAMP = np.arange(256, dtype=np.float32)   # every 8-bit value, to build lookup tables from


def _lut(values: np.ndarray) -> np.ndarray:
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def _yuv_luts(img: np.ndarray, y_lut: np.ndarray | None, uv_lut: np.ndarray | None) -> np.ndarray:
    """Apply lookup tables to luma and chroma (BT.601 full range) of an RGB image."""
    import cv2

    yuv = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
    luts = [y_lut if y_lut is not None else np.arange(256, dtype=np.uint8)]
    luts += [uv_lut if uv_lut is not None else np.arange(256, dtype=np.uint8)] * 2
    yuv = cv2.LUT(yuv, np.stack(luts, axis=-1).reshape(256, 1, 3))
    return cv2.cvtColor(yuv, cv2.COLOR_YCrCb2RGB)


def _kelvin_gains(kelvin: float) -> np.ndarray:
    """RGB multipliers that tint neutral (6500 K) white toward a colour temperature."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * np.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307)
    rgb = np.clip(np.array([r, g, b], np.float32), 1, 255)
    return rgb / rgb.max()


def apply_look_approx(rgb: np.ndarray, specs: list[tuple[str, dict]]) -> np.ndarray:
    """A lookup-table stand-in for the look's ffmpeg filters, close enough while scrubbing."""
    import cv2

    img = np.ascontiguousarray(rgb)
    for name, opts in specs:
        if name == "eq":
            c, b, s = float(opts.get("contrast", 1)), float(opts.get("brightness", 0)), float(opts.get("saturation", 1))
            img = _yuv_luts(img, _lut((c * (_RAMP / 255.0 - 0.5) + 0.5 + b) * 255.0), _lut((_RAMP - 128.0) * s + 128.0))
        elif name == "hue" and float(opts.get("s", 1)) == 0:
            img = _yuv_luts(img, None, np.full(256, 128, np.uint8))
        elif name == "colortemperature":
            gains = _kelvin_gains(float(opts.get("temperature", 6500))) / _kelvin_gains(6500)
            pl = float(opts.get("pl", 0))
            gains = gains / (1 - pl + pl * gains.max())  # preserve lightness, roughly
            table = np.stack([_lut(_RAMP * g) for g in gains], axis=-1).reshape(256, 1, 3)
            img = cv2.LUT(img, table)
        elif name == "curves" and opts.get("preset") in _CURVE_PRESETS:
            table = np.stack([_lut(_spline(pts, _RAMP / 255.0) * 255.0) for pts in _CURVE_PRESETS[opts["preset"]]],
                             axis=-1).reshape(256, 1, 3)
            img = cv2.LUT(img, table)
        # anything else shows unchanged until the exact frame arrives
    return img


# ffmpeg's curves presets (libavfilter/vf_curves.c), per channel r, g, b: (x, y) control points.
_CURVE_PRESETS = {
    "vintage": (((0, 0.11), (0.42, 0.51), (1, 0.95)), ((0, 0), (0.50, 0.48), (1, 1)),
                ((0, 0.22), (0.49, 0.44), (1, 0.8))),
}


def _spline(points, x: np.ndarray) -> np.ndarray:  # noqa: ANN001 - ((x, y), ...)
    """Natural cubic spline through the points (what the curves filter draws), evaluated at x."""
    px = np.array([p[0] for p in points], np.float64)
    py = np.array([p[1] for p in points], np.float64)
    n = len(px)
    h = np.diff(px)
    a = np.zeros((n, n))
    r = np.zeros(n)
    a[0, 0] = a[-1, -1] = 1.0
    for i in range(1, n - 1):
        a[i, i - 1], a[i, i], a[i, i + 1] = h[i - 1], 2 * (h[i - 1] + h[i]), h[i]
        r[i] = 6 * ((py[i + 1] - py[i]) / h[i] - (py[i] - py[i - 1]) / h[i - 1])
    m = np.linalg.solve(a, r)   # second derivatives, zero at both ends
    i = np.clip(np.searchsorted(px, x, side="right") - 1, 0, n - 2)
    t = x - px[i]
    hi = h[i]
    y = (py[i] + t * ((py[i + 1] - py[i]) / hi - hi * (2 * m[i] + m[i + 1]) / 6)
         + t ** 2 * m[i] / 2 + t ** 3 * (m[i + 1] - m[i]) / (6 * hi))
    return np.clip(y, 0.0, 1.0)


# --- overlays -------------------------------------------------------------------------------------

def _load_rgba(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = QImage(str(path))
    if img.isNull():
        raise PreviewError(f"The overlay image “{path.name}” cannot be read.")
    img = img.convertToFormat(QImage.Format.Format_RGBA8888_Premultiplied)
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), img.bytesPerLine() // 4, 4)
    return arr[:, : img.width()].copy()


class PreviewCompositor:
    """Frames of one edit at preview size. Thread-safe for one caller at a time (the playback worker)."""

    def __init__(self, edit: Edit, assets: dict[str, MediaRef], *, cache_dir: Path,
                 size: tuple[int, int] | None = None, decoders: DecoderPool | None = None):
        self._lock = threading.RLock()
        self.cache_dir = Path(cache_dir)
        self.assets = dict(assets)
        self.decoders = decoders or DecoderPool()
        self._own_decoders = decoders is None
        self._fixed_size = size
        self._images: dict[Path, np.ndarray] = {}
        self.set_edit(edit)

    # -- state -----------------------------------------------------------------------------------
    def set_edit(self, edit: Edit, assets: dict[str, MediaRef] | None = None) -> None:
        with self._lock:
            self.edit = edit
            if assets is not None:
                self.assets = dict(assets)
            self.size = self._fixed_size or preview_size(edit)
            self._overlays = None  # rasterized lazily, on the worker thread

    def _asset_path(self, asset_id: str) -> Path:
        return self.assets[asset_id].path

    def overlays(self):
        """The edit's overlays rasterized at preview size (the same drawing code as the export)."""
        with self._lock:
            if self._overlays is None:
                w, h = self.size
                self._overlays = overlays.rasterize(self.edit, w, h, self.cache_dir / "overlays",
                                                    asset_path=self._asset_path)
                # drop images of overlays restyled or resized since (a resize drag makes many)
                current = {o.path for o in self._overlays}
                self._images = {p: img for p, img in self._images.items() if p in current}
            return self._overlays

    # -- fast path -------------------------------------------------------------------------------
    def fast_frame(self, t_us: int) -> np.ndarray:
        """RGB (h, w, 3) at preview size: decoded frame + geometry + approximate look + overlays."""
        with self._lock:
            w, h = self.size
            canvas = np.zeros((h, w, 3), np.uint8)
            t_us = snap_to_frame(self.edit, min(max(0, int(t_us)), last_frame_us(self.edit)))

            span = transitions.span_at(self.edit, t_us)
            if span is not None:   # two clips on screen: each painted whole, blended as xfade does
                frame = transitions.frame_index(t_us, self.edit.canvas.fps)
                ranges = self.edit.clip_ranges()
                sides = []
                for clip, a, _b in ranges[span.index:span.index + 2]:
                    side = np.zeros((h, w, 3), np.uint8)
                    src = clip.source_in_us + min(round((t_us - a) * clip.speed), max(clip.source_duration_us - 1, 0))
                    self._paint_clip(side, clip, max(src, clip.source_in_us), look_filters)
                    sides.append(side)
                canvas = transitions.blend(span.kind, sides[0], sides[1], span.progress(frame))
            else:
                hit = self.edit.clip_at(t_us)
                if hit is not None:
                    self._paint_clip(canvas, hit[0], hit[1], look_filters)

            for ov in self.overlays():
                if ov.start_us <= t_us < ov.end_us:
                    rgba = self._images.get(ov.path)
                    if rgba is None:
                        rgba = self._images[ov.path] = _load_rgba(ov.path)
                    source = animation.animated_source(self.edit, ov.id)
                    if source is not None:   # the export's own motion expressions, evaluated
                        m = animation.motion(source, w, h, 0, (ov.x + ov.width / 2, ov.y + ov.height / 2))
                        shown = animation.frame_of(m, rgba, t_us / US) if m.moves else (rgba, ov.x, ov.y)
                        if shown is not None:
                            _blend_premultiplied(canvas, *shown)
                        continue
                    _blend_premultiplied(canvas, rgba, ov.x, ov.y)
            return canvas

    def _paint_clip(self, canvas: np.ndarray, clip: Clip, src_us: int, look_filters) -> None:  # noqa: ANN001
        h, w = canvas.shape[:2]
        picture = self._clip_picture(clip, src_us, w, h)
        if picture is None:
            return
        img, x, y = picture
        _paste(canvas, img, x, y)
        lk = clip.look
        specs = look_filters(lk.name, lk.brightness, lk.contrast, lk.saturation, lk.warmth)
        if specs:
            # Only the visible part of the picture is coloured: far less work with "fill".
            y0, y1 = max(y, 0), min(y + img.shape[0], h)
            x0, x1 = max(x, 0), min(x + img.shape[1], w)
            if y1 > y0 and x1 > x0:
                canvas[y0:y1, x0:x1] = apply_look_approx(canvas[y0:y1, x0:x1], specs)

    def _clip_picture(self, clip: Clip, src_us: int, out_w: int, out_h: int):
        """The clip's visible picture at preview size and where it goes: (rgb, x, y) or None.

        Uses the render graph's own geometry (crop of the visible part, scaled size, position),
        so the fast frame lines up with the export to the pixel.
        """
        asset = self.assets.get(clip.asset_id)
        if asset is None:
            raise PreviewError("A clip's media is not part of this draft any more.")
        if asset.kind != "video":
            return None

        g = clip_geometry(clip, asset, out_w, out_h)  # the export's own placement
        dw, dh = g["src_size"]          # after the clip rotation
        cw, ch, cx, cy = g["crop"]
        vis_w, vis_h = g["scaled"]
        follow = clip.reframe.mode == "follow" and bool(clip.reframe.keys)
        if follow:  # the export's per-frame crop, from the same keys
            cx, cy = window_offset(clip, src_us, cw, ch, dw, dh)
        whole = (round(cw), round(ch), round(cx), round(cy)) == (dw, dh, 0, 0)
        if whole and not clip.rotation:
            # Nothing cut off: let swscale resize straight to the shown size while converting.
            rgb = self.decoders.frame_at(asset.path, src_us, size=(vis_w, vis_h), rotation=asset.rotation)
        else:
            rgb = self.decoders.frame_at(asset.path, src_us, rotation=asset.rotation)
            if clip.rotation:
                rgb = np.rot90(rgb, (-(clip.rotation // 90)) % 4)
            # ffmpeg's crop on 4:2:0 video starts on even pixels
            x0, y0 = int(cx) // 2 * 2, int(cy) // 2 * 2
            rgb = rgb[y0:y0 + max(1, int(ch)), x0:x0 + max(1, int(cw))]
            rgb = _resize(np.ascontiguousarray(rgb), vis_w, vis_h)
        if not g["visible"]:
            rgb = np.zeros_like(rgb)
        x, y = g["at"]
        return rgb, int(x), int(y)

    # -- exact path ------------------------------------------------------------------------------
    def render_argv(self, t_us: int, duration_us: int | None) -> list[str]:
        with self._lock:
            return build_render(self.edit, self.assets, out="pipe:1", size=self.size, start_us=int(t_us),
                                duration_us=duration_us, for_preview=True, overlay_dir=self.cache_dir / "overlays")

    def exact_frame(self, t_us: int, *, cancel: Callable[[], bool] | None = None) -> np.ndarray | None:
        """RGB (h, w, 3): one frame from the export's render graph. Raises PreviewError.

        ``cancel()`` is polled while ffmpeg works; when it returns True the render is abandoned
        and None is returned (the playhead moved on: nobody wants this frame any more)."""
        t_us = snap_to_frame(self.edit, min(max(0, int(t_us)), last_frame_us(self.edit)))
        frame_us = round(US / self.edit.canvas.fps)
        with FramePipe(self.render_argv(t_us, frame_us), self.size, cancel=cancel) as pipe:
            frame = pipe.read()
            if frame is None and pipe.cancelled:
                return None
        if frame is None:
            raise PreviewError("The preview could not render this moment of the reel.")
        return frame

    def stream(self, t_us: int) -> "FramePipe":
        """A pipe yielding consecutive canvas frames from ``t_us`` to the end (close it when done)."""
        return FramePipe(self.render_argv(snap_to_frame(self.edit, t_us), None), self.size)

    def close(self) -> None:
        if self._own_decoders:
            self.decoders.close()


AUDIO_RATE = 48_000


def audio_argv(edit: Edit, assets: dict, start_us: int) -> list[str]:
    """ffmpeg argv (no binary) writing the reel's mixed sound from ``start_us`` to stdout as
    s16le 48 kHz stereo — the export's audio graph (clip sound, speed, volume, music, fades).

    The sound starts with the canvas frame on screen at ``start_us`` (``snap_to_frame``), where
    playback's picture starts, and each sample is the export's sample at that moment."""
    import ffmpeg as ffmpeg_python

    fps = edit.canvas.fps
    end = edit.duration_us
    start = snap_to_frame(edit, max(0, min(int(start_us), end)))
    if end <= start:
        raise PreviewError("There is no sound left to play from here.")

    parts = []
    sound = audio_ranges(edit)      # the export's: at a transition the incoming clip's sound takes over
    clip_starts = {clip.id: a for clip, a, _b in sound}
    for seg in rg.plan_segments(edit, assets, start, end, sound):
        clip_start = clip_starts[seg.clip.id]
        if seg.clip.speed != 1.0 and seg.asset.kind != "image" and start > clip_start:
            # atempo's overlap-add depends on where it started: begun at the playhead, a sped-up clip
            # sounds several ms off the export, which starts it at the clip's first sample. So the
            # clip is stretched from its start, like the export does, and cut at the playhead.
            whole = rg.plan_segments(edit, assets, clip_start, end, sound)[0]
            a = rg.clip_audio(ffmpeg_python, whole, rg.segment_input(ffmpeg_python, whole, fps), fps)
            skip = (rg.frame_index(start, fps) - rg.frame_index(clip_start, fps)) * AUDIO_RATE // fps
            parts.append(a.filter("atrim", start_sample=skip).filter("asetpts", "PTS-STARTPTS").filter(
                "atrim", end_sample=seg.frames * AUDIO_RATE // fps))
            continue
        # The export's own input (seeked a margin early, which clip_audio trims off again): opened
        # any other way, the sound runs that margin — two frames — ahead of the export's.
        inp = None if seg.asset.kind == "image" else rg.segment_input(ffmpeg_python, seg, fps)
        parts.append(rg.clip_audio(ffmpeg_python, seg, inp, fps))
    a = ffmpeg_python.concat(*parts, v=0, a=1) if len(parts) > 1 else parts[0]
    a = rg.mix_audio(ffmpeg_python, a, edit, assets, start, end, rg.frame_index(end - start, fps))
    out = ffmpeg_python.output(a, "pipe:1", f="s16le", acodec="pcm_s16le", ar=AUDIO_RATE, ac=2)
    return ["-loglevel", "error", *out.get_args()]


class FramePipe:
    """An ffmpeg process writing raw RGB frames of ``size`` to stdout; read them one by one."""

    def __init__(self, argv: list[str], size: tuple[int, int], *, cancel: Callable[[], bool] | None = None):
        self.size = size
        self._frame_bytes = size[0] * size[1] * 3
        self._ff = ffmpeg.spawn(["-loglevel", "error", *argv], stdout=True, cancel=cancel,
                                bufsize=self._frame_bytes * 2)

    @property
    def cancelled(self) -> bool:
        return self._ff.cancelled

    def read(self) -> np.ndarray | None:
        """The next frame, or None at the end (or when cancelled)."""
        data = self._read_exact(self._frame_bytes)
        if data is None:
            if self._ff.wait(timeout=30) != 0 and not self.cancelled:
                log.warning("preview ffmpeg failed: %s", self._ff.error_text[-800:])
            return None
        w, h = self.size
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)

    def _read_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        out = self._ff.stdout
        while len(buf) < n:
            chunk = out.read(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self.read()) is not None:
            yield frame

    @property
    def error_text(self) -> str:
        return self._ff.error_text

    def close(self) -> None:
        self._ff.close()

    def __enter__(self) -> "FramePipe":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
