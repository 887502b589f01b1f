"""Follow-subject reframing: from a clip's frames to a smooth crop path stored as keyframes.

    keys, subject = follow_subject(path, clip, asset, canvas)      # [ReframeKey], "face"|"motion"|"none"
    edit, report = follow_subject_draft(studio, draft, edit)       # every clip shaped unlike the canvas

The clip is sampled at ``SAMPLE_FPS`` (one ffmpeg pipe of small frames). On each sample the subject is
the face nearest to the last one (BlazeFace, ``faces.FaceDetector``) or, with no face, the largest
moving region (frame differencing). Then, shot by shot (a shot change is a jump of the colour
histogram), the path is smoothed without lag (a centred moving average), held while the subject
stays inside a small dead zone, and moved by a virtual camera whose speed and acceleration are
bounded, so the frame never jumps or jitters. Keys are source times and window centres in
fractions of the upright source; between keys the centre moves linearly — the export's crop
(``crop_expressions``) and the preview (``window_offset``) read the same keys.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np

from studio.editor.document import US, Clip, Edit, ReframeKey, validate
from studio.errors import StudioError
from studio.media import ffmpeg
from studio.media.decoder import ffmpeg_input_options
from studio.visual.faces import FaceDetector, largest_motion

log = logging.getLogger(__name__)

SAMPLE_FPS = 6
SAMPLE_WIDTH = 640             # analysis frames are this wide (even)
MAX_SPEED = 0.8                # window-centre speed limit, fractions of the source width per second
MAX_ACCEL = 2.5                # its acceleration limit, per second squared
DEAD_ZONE = 0.02               # the camera holds while the subject stays this close to its aim
SMOOTH_S = 0.5                 # width of the centred moving average
SHOT_CHANGE = 0.5              # histogram distance (0..1) that marks a new shot
KEY_TOLERANCE = 0.002          # keys dropped where the straight line between neighbours is this close


class ReframeError(StudioError, RuntimeError):
    """Follow-subject cannot run on this clip; ``str(e)`` is for the creator."""


# --- sampling ------------------------------------------------------------------------------------

def sample_frames(path: Path, start_us: int, length_us: int, width: int, height: int, *,
                  rotation_filter: list[str] | None = None,
                  cancel: Callable[[], bool] | None = None):
    """Yield (source time µs, RGB frame) at SAMPLE_FPS over [start, start + length) of a video file."""
    sw = SAMPLE_WIDTH
    sh = max(2, int(round(sw * height / max(1, width) / 2)) * 2)
    vf = ",".join([*(rotation_filter or []), f"fps={SAMPLE_FPS}:start_time=0", f"scale={sw}:{sh}"])
    opts = [x for k, v in ffmpeg_input_options(path).items() for x in (f"-{k}", v)]
    args = ["-loglevel", "error", *opts, "-ss", f"{start_us / US:.6f}", "-t", f"{length_us / US:.6f}",
            "-i", str(path), "-an", "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    proc = ffmpeg.spawn(args, stdout=True, cancel=cancel, bufsize=sw * sh * 3 * 2)
    try:
        n = 0
        size = sw * sh * 3
        while True:
            buf = bytearray()
            while len(buf) < size:
                chunk = proc.stdout.read(size - len(buf))
                if not chunk:
                    break
                buf += chunk
            if len(buf) < size:
                break
            yield start_us + round(n * US / SAMPLE_FPS), np.frombuffer(bytes(buf), np.uint8).reshape(sh, sw, 3)
            n += 1
    finally:
        proc.close()


# --- observing -----------------------------------------------------------------------------------

def _histogram(rgb: np.ndarray) -> np.ndarray:
    import cv2

    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).reshape(-1)
    return hist / max(hist.sum(), 1.0)


def observe(frames) -> tuple[list[int], list[tuple[float, float] | None], list[int], str]:
    """Per sample: its time, the subject's centre (or None), the shot indices where a new shot
    starts, and what was followed ("face", "motion" or "none")."""
    import cv2

    detector = FaceDetector()
    times, centres, cuts = [], [], [0]
    prev_gray = prev_hist = None
    last = None
    kinds = set()
    for i, (t, rgb) in enumerate(frames):
        hist = _histogram(rgb)
        if prev_hist is not None and 0.5 * np.abs(hist - prev_hist).sum() > SHOT_CHANGE:
            cuts.append(i)
            last, prev_gray = None, None
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        faces = detector.detect(rgb)
        centre = None
        if faces:
            if last is None:
                pick = max(faces, key=lambda f: f.area * f.score)
            else:   # stay with the same person: the face nearest to the last one
                pick = min(faces, key=lambda f: (f.cx - last[0]) ** 2 + (f.cy - last[1]) ** 2)
            centre = (pick.cx, pick.cy)
            kinds.add("face")
        elif prev_gray is not None:
            moving = largest_motion(prev_gray, gray)
            if moving is not None:
                centre = (moving.cx, moving.cy)
                kinds.add("motion")
        times.append(t)
        centres.append(centre)
        last = centre or last
        prev_gray, prev_hist = gray, hist
    subject = "face" if "face" in kinds else ("motion" if kinds else "none")
    return times, centres, cuts, subject


# --- smoothing -----------------------------------------------------------------------------------

def _fill(values: list[float | None], default: float) -> np.ndarray:
    """Gaps held at the last value (leading gaps take the first seen, or ``default``)."""
    first = next((v for v in values if v is not None), default)
    out, cur = [], first
    for v in values:
        cur = cur if v is None else v
        out.append(cur)
    return np.array(out, np.float64)


def _centred_average(x: np.ndarray, n: int) -> np.ndarray:
    if n <= 1 or len(x) < 3:
        return x.copy()
    pad = n // 2
    padded = np.pad(x, pad, mode="edge")
    return np.convolve(padded, np.ones(2 * pad + 1) / (2 * pad + 1), mode="valid")


def camera_path(target: np.ndarray, dt: float, *, lo: float, hi: float, max_speed: float = MAX_SPEED,
                max_accel: float = MAX_ACCEL, dead_zone: float = DEAD_ZONE) -> np.ndarray:
    """A virtual camera chasing ``target`` (one value per sample), always inside [lo, hi].

    At rest it holds until the target leaves the dead zone (a subject shifting on the spot does
    not move the frame); moving, it accelerates and brakes within ``max_accel`` toward where the
    target is heading, never faster than ``max_speed``, and comes to rest once it has caught up
    with a target that stopped."""
    coarse = np.clip(target, lo, hi)
    if len(coarse) < 2:
        return coarse.astype(np.float64)
    # the camera runs at ten steps per sample: the braking law chatters on coarse steps
    sub = 10
    fine_t = np.arange((len(coarse) - 1) * sub + 1) / sub
    aims = np.interp(fine_t, np.arange(len(coarse)), coarse)
    speeds = np.gradient(coarse) / dt
    speeds = np.interp(fine_t, np.arange(len(coarse)), speeds)
    dt = dt / sub
    pos, vel, moving = float(aims[0]), 0.0, False
    out = []
    for aim, aim_speed in zip(aims, speeds):
        error = aim - pos
        if not moving and abs(error) > dead_zone:
            moving = True
        if moving and abs(error) < dead_zone / 4 and abs(aim_speed) < 0.05 and abs(vel) <= max_accel * dt:
            moving, vel = False, 0.0
        if moving:
            # the speed from which braking at max_accel stops at the aim, plus the aim's own speed
            brake = np.sign(error) * np.sqrt(2 * max_accel * abs(error))
            want = float(np.clip(brake + aim_speed, -max_speed, max_speed))
            vel += float(np.clip(want - vel, -max_accel * dt, max_accel * dt))
        pos = float(np.clip(pos + vel * dt, lo, hi))
        out.append(pos)
    return np.array(out[::sub])


def smooth_path(times: list[int], centres: list, cuts: list[int], *, half_w: float, half_h: float,
                speed: float = 1.0) -> list[ReframeKey]:
    """Keys of a smooth window path, shot by shot; ``half_w``/``half_h`` are half the window's
    size (fractions of the source), which bound the centre so the window stays in the picture."""
    keys: list[ReframeKey] = []
    dt = 1.0 / SAMPLE_FPS
    bounds = [*cuts, len(times)]
    for a, b in zip(bounds, bounds[1:]):
        if b <= a:
            continue
        xs = _fill([c[0] if c else None for c in centres[a:b]], 0.5)
        ys = _fill([c[1] if c else None for c in centres[a:b]], 0.5)
        n = max(1, int(round(SMOOTH_S * SAMPLE_FPS)))
        # the camera's limits are in timeline seconds: a sped-up clip moves through the source faster
        cx = camera_path(_centred_average(xs, n), dt, lo=half_w, hi=1 - half_w,
                         max_speed=MAX_SPEED * speed, max_accel=MAX_ACCEL * speed * speed)
        cy = camera_path(_centred_average(ys, n), dt, lo=half_h, hi=1 - half_h,
                         max_speed=MAX_SPEED * speed, max_accel=MAX_ACCEL * speed * speed)
        shot = [ReframeKey(t_us=int(t), cx=round(float(x), 5), cy=round(float(y), 5))
                for t, x, y in zip(times[a:b], cx, cy)]
        if keys and shot:      # a shot change cuts straight to the new framing, one frame after
            shot[0] = ReframeKey(t_us=max(shot[0].t_us, keys[-1].t_us + 1), cx=shot[0].cx, cy=shot[0].cy)
            keys.append(ReframeKey(t_us=shot[0].t_us - 1, cx=keys[-1].cx, cy=keys[-1].cy))
            if keys[-1].t_us <= keys[-2].t_us:
                keys.pop()
        keys += _decimate(shot)
    return keys


def _decimate(keys: list[ReframeKey]) -> list[ReframeKey]:
    """Drop keys that the straight line between their neighbours reproduces (fewer keys to edit)."""
    if len(keys) <= 2:
        return keys
    out = [keys[0]]
    for i in range(1, len(keys) - 1):
        a, k, b = out[-1], keys[i], keys[i + 1]
        f = (k.t_us - a.t_us) / (b.t_us - a.t_us)
        if max(abs(a.cx + (b.cx - a.cx) * f - k.cx), abs(a.cy + (b.cy - a.cy) * f - k.cy)) > KEY_TOLERANCE:
            out.append(k)
    out.append(keys[-1])
    return out


# --- the window, read by export and preview alike ------------------------------------------------

def window_size(clip: Clip, src_w: float, src_h: float, canvas_w: int, canvas_h: int) -> tuple[float, float]:
    """The visible window (source pixels) of a fill-framed clip: the canvas's shape, scaled."""
    s = max(canvas_w / src_w, canvas_h / src_h) * clip.reframe.scale
    return min(src_w, canvas_w / s), min(src_h, canvas_h / s)


def centre_at(clip: Clip, src_us: float) -> tuple[float, float]:
    """The window centre (fractions of the source) at a source time: keys joined by straight lines."""
    keys = clip.reframe.keys
    if not keys:
        return 0.5, 0.5
    ts = [k.t_us for k in keys]
    return float(np.interp(src_us, ts, [k.cx for k in keys])), float(np.interp(src_us, ts, [k.cy for k in keys]))


def window_offset(clip: Clip, src_us: float, crop_w: float, crop_h: float, src_w: float, src_h: float) -> tuple[int, int]:
    """Top-left (source pixels, even as ffmpeg's crop on 4:2:0 makes it) of the window at ``src_us``."""
    cx, cy = centre_at(clip, src_us)
    x = min(max(cx * src_w - crop_w / 2, 0.0), src_w - crop_w)
    y = min(max(cy * src_h - crop_h / 2, 0.0), src_h - crop_h)
    return int(x) // 2 * 2, int(y) // 2 * 2


def _piecewise(values: list[float], ts_s: list[float], var: str) -> str:
    """An ffmpeg expression: the straight lines through (ts, values) at ``var``, held at both ends —
    a flat sum of clipped ramps, so hundreds of keys do not nest."""
    terms = [f"{values[0]:.6f}"]
    for (t0, v0), (t1, v1) in zip(zip(ts_s, values), zip(ts_s[1:], values[1:])):
        if t1 <= t0 or v1 == v0:
            continue
        terms.append(f"{(v1 - v0) / (t1 - t0):.6f}*clip({var}-{t0:.6f},0,{t1 - t0:.6f})")
    return "+".join(terms)


def crop_expressions(clip: Clip, seg_source_in_us: int, crop_w: float, crop_h: float,
                     src_w: float, src_h: float) -> tuple[str, str]:
    """ffmpeg crop x and y over the segment's time ``t`` (seconds from its first frame, after speed)."""
    keys = clip.reframe.keys
    src = f"(t*{clip.speed:.6f}+{seg_source_in_us / US:.6f})"
    ts = [k.t_us / US for k in keys]
    x = _piecewise([k.cx * src_w - crop_w / 2 for k in keys], ts, src)
    y = _piecewise([k.cy * src_h - crop_h / 2 for k in keys], ts, src)
    return (f"clip({x},0,{max(src_w - crop_w, 0):.3f})", f"clip({y},0,{max(src_h - crop_h, 0):.3f})")


# --- the service ---------------------------------------------------------------------------------

def follow_subject(path: Path, clip: Clip, width: int, height: int, canvas_w: int, canvas_h: int,
                   *, rotation: int = 0, cancel: Callable[[], bool] | None = None) -> tuple[list[ReframeKey], str]:
    """Keys for one clip of a ``width``×``height`` (display size) video. Raises ReframeError."""
    dw, dh = (height, width) if clip.rotation in (90, 270) else (width, height)
    if dw <= 0 or dh <= 0:
        raise ReframeError("This clip's picture size is unknown; re-import the file.")
    rot = {90: ["transpose=1"], 180: ["hflip", "vflip"], 270: ["transpose=2"]}.get(clip.rotation, [])
    frames = sample_frames(path, clip.source_in_us, clip.source_duration_us, dw, dh, rotation_filter=rot,
                           cancel=cancel)
    times, centres, cuts, subject = observe(frames)
    if not times:
        raise ReframeError("No picture could be read from this clip; is the file damaged?")
    ww, wh = window_size(clip, dw, dh, canvas_w, canvas_h)
    keys = smooth_path(times, centres, cuts, half_w=ww / dw / 2, half_h=wh / dh / 2, speed=clip.speed)
    return keys, subject


def follow_subject_draft(studio, draft, edit: Edit, *, clip_number: int | None = None,  # noqa: ANN001
                         cancel: Callable[[], bool] | None = None) -> tuple[Edit, list[dict[str, Any]]]:
    """Follow-subject on clip ``clip_number`` (1-based), or on every clip whose shape differs from
    the canvas. Returns the new edit (not saved) and a line per clip. Raises ReframeError."""
    import copy

    if not edit.clips:
        raise ReframeError("This draft has no clips to reframe.")
    if clip_number is not None and not 1 <= clip_number <= len(edit.clips):
        raise ReframeError(f"There is no clip {clip_number}; the draft has {len(edit.clips)}.")
    assets = {a.id: a for a in draft.assets}
    e = copy.deepcopy(edit)
    cw, ch = e.canvas.width, e.canvas.height
    report = []
    for i, clip in enumerate(e.clips, 1):
        if clip_number is not None and i != clip_number:
            continue
        a = assets.get(clip.asset_id)
        if a is None or a.missing or a.kind != "video":
            if clip_number is not None:
                raise ReframeError(f"Clip {i} is not a video whose file is present; it cannot follow a subject.")
            continue
        w, h = int(a.width or 0), int(a.height or 0)
        if clip_number is None and w and h and abs(w / h - cw / ch) < 0.02:
            continue           # already the canvas's shape: nothing to follow
        keys, subject = follow_subject(studio.drafts.asset_path(a), clip, w, h, cw, ch, cancel=cancel)
        clip.reframe.mode = "follow"
        clip.reframe.crop = None
        clip.reframe.x = clip.reframe.y = 0.0
        clip.reframe.keys = keys
        report.append({"clip": i, "keys": len(keys), "subject": subject})
    if not report:
        raise ReframeError("Every clip already has the canvas's shape; there is nothing to reframe.")
    validate(e)
    return e, report
