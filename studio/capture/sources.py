"""Picture sources behind one interface: a camera, a video file played as a camera, a test pattern.

    source.open()                 # raises CaptureError (NoCameraError) with a sentence for the creator
    frame, ts = source.read()     # BGR uint8 frame and its capture time on time.monotonic(); None at the end
    source.close()

Every source delivers frames at its own pace (a camera blocks until the sensor has one; a file and the
synthetic pattern sleep until the frame is due), so the capture worker treats them all the same.
The synthetic source also has a tone (``audio()``) on the same clock, with a white flash and a beep
at the same instants so A/V sync can be measured in the recorded file.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.capture import devices
from studio.capture.audio import SyntheticAudio
from studio.capture.clock import Clock, SyncMarks
from studio.errors import StudioError


class CaptureError(StudioError, RuntimeError):
    """Recording cannot go on; ``str(e)`` says why and what to do."""


class NoCameraError(CaptureError):
    """The chosen camera does not exist or cannot be opened."""


@dataclass(frozen=True)
class SourceChoice:
    id: str      # "camera:0", "synthetic", "file:/path"
    name: str


NO_CAMERA_MESSAGE = ("No camera was found. Connect a webcam and press Refresh, or record the test pattern "
                     "(synthetic source) to try things out.")


def source_choices() -> tuple[list[SourceChoice], str | None]:
    """What the creator can record from, and a notice when there is no camera."""
    cameras = [SourceChoice(d.id, d.name) for d in devices.list_cameras()]   # looked up per call: tests replace it
    choices = cameras + [SourceChoice("synthetic", "Test pattern")]
    return choices, None if cameras else NO_CAMERA_MESSAGE


class FrameSource:
    """Base class: ``size`` (w, h), ``fps`` (nominal), ``has_audio``, ``name``."""

    name = "source"
    has_audio = False

    def __init__(self, size: tuple[int, int], fps: float):
        self.size = size
        self.fps = float(fps)

    def open(self) -> None:
        raise NotImplementedError

    def read(self) -> tuple[np.ndarray, float] | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def audio(self):  # noqa: ANN201 - an AudioInput or None
        """The sound that belongs to this source (only the synthetic one has its own)."""
        return None


# -- OpenCV: cameras and files -----------------------------------------------------------------


def _quiet_opencv() -> None:
    """A missing camera is reported once, in our words; OpenCV's own warnings are noise in a terminal."""
    import cv2

    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:
        pass


class OpenCVSource(FrameSource):
    """A cv2.VideoCapture. A camera paces itself; a file is paced to its own timestamps (``realtime``)."""

    def __init__(self, target, size: tuple[int, int] | None, fps: float | None, *, realtime: bool,  # noqa: ANN001
                 name: str, clock: Clock = time.monotonic):
        super().__init__(size or (1280, 720), fps or 30.0)
        self.target = target
        self.realtime = realtime
        self.name = name
        self.clock = clock
        self._cap = None
        self._t0: float | None = None
        self._requested = (size, fps)

    def open(self) -> None:
        import cv2

        _quiet_opencv()
        if isinstance(self.target, int):
            backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
            cap = cv2.VideoCapture(self.target, backend)
            if not cap.isOpened():
                cap.release()
                raise NoCameraError(f"Camera {self.target} cannot be opened (it is missing or another app uses it). "
                                    "Choose another source, or record the test pattern (synthetic).")
            self._configure_camera(cap)
        else:
            cap = cv2.VideoCapture(str(self.target))
            if not cap.isOpened():
                cap.release()
                raise CaptureError(f"“{Path(self.target).name}” cannot be played as a camera: it is not a video "
                                   "OpenCV can read.")
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.size = (w, h) if w and h else self.size
        if fps and 1 <= fps <= 240 and not (self._requested[1] and isinstance(self.target, int)):
            self.fps = float(fps)
        self._cap = cap
        self._t0 = None

    def _configure_camera(self, cap) -> None:  # noqa: ANN001
        import cv2

        size, fps = self._requested
        if size:
            # Most webcams deliver 1080p (often 720p too) at full rate only as MJPG; raw YUYV is USB-bound.
            if size[1] >= 720:
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        if fps:
            cap.set(cv2.CAP_PROP_FPS, fps)

    def read(self) -> tuple[np.ndarray, float] | None:
        import cv2

        if self._cap is None:
            return None
        if not self._cap.grab():
            return None
        if self.realtime:
            # A file has no sensor clock: release each frame when its own timestamp comes due.
            pos = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            now = self.clock()
            if self._t0 is None:
                self._t0 = now - pos
            due = self._t0 + pos
            if due > now:
                time.sleep(due - now)
            ts = due
        else:
            ts = self.clock()
        ok, frame = self._cap.retrieve()
        if not ok or frame is None:
            return None
        return frame, ts

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# -- Synthetic test pattern --------------------------------------------------------------------


class SyntheticSource(FrameSource):
    """A moving test pattern with the running time burned in. Frame ``k`` is due at ``t0 + k / fps``.

    Like a webcam, it holds a few frames in its "driver queue" (``buffer_frames``): a reader that
    wakes up late still gets every frame, stamped with the instant it was captured. A reader later
    than the whole queue loses the oldest frames (counted in ``skipped``), as a real camera would.
    """

    name = "Test pattern"
    has_audio = True

    def __init__(self, size: tuple[int, int] = (1280, 720), fps: float = 30.0, *, marks: SyncMarks | None = SyncMarks(),
                 clock: Clock = time.monotonic, tone_hz: float = 440.0, buffer_frames: int = 4):
        super().__init__(size, fps)
        self.marks = marks
        self.clock = clock
        self.tone_hz = tone_hz
        self.buffer_frames = buffer_frames
        self.t0: float | None = None
        self._k = 0
        self._background: np.ndarray | None = None
        self.skipped = 0

    def open(self) -> None:
        w, h = self.size
        x = np.linspace(0, 255, w, dtype=np.float32)
        y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
        bg = np.empty((h, w, 3), np.uint8)
        # A soft gradient, darker than the flash so the flash stands out by luma.
        bg[..., 0] = (x * 0.5 + 40).astype(np.uint8)
        bg[..., 1] = (y * 0.4 + 30).astype(np.uint8)
        bg[..., 2] = ((x[None, :] + y) * 0.2 + 40).astype(np.uint8)
        self._background = bg
        self.t0 = self.clock()
        self._k = 0

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._background is None:
            return None
        due = self.t0 + self._k / self.fps
        now = self.clock()
        if due > now:
            time.sleep(due - now)
        else:
            overrun = int((now - due) * self.fps) - self.buffer_frames + 1
            if overrun > 0:
                self._k += overrun
                self.skipped += overrun
                due = self.t0 + self._k / self.fps
        t = self._k / self.fps
        self._k += 1
        return self.render(t), due

    def render(self, t: float) -> np.ndarray:
        import cv2

        w, h = self.size
        if self.marks is not None and self.marks.active(t):
            return np.full((h, w, 3), 255, np.uint8)
        frame = self._background.copy()
        # A bar sweeping across once per second and a rotating spoke show motion and dropped frames.
        bar_w = max(4, w // 40)
        x = int((t % 1.0) * (w - bar_w))
        frame[:, x:x + bar_w] = (0, 200, 255)
        cx, cy, r = w // 2, h // 2, min(w, h) // 4
        angle = 2 * math.pi * (t % 2.0) / 2.0
        cv2.circle(frame, (cx, cy), r, (220, 220, 220), max(1, h // 180), cv2.LINE_AA)
        cv2.line(frame, (cx, cy), (int(cx + r * math.sin(angle)), int(cy - r * math.cos(angle))),
                 (60, 60, 230), max(2, h // 120), cv2.LINE_AA)
        scale = h / 360
        label = f"{int(t // 60):02d}:{t % 60:06.3f}"
        cv2.putText(frame, label, (int(20 * scale), int(50 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale,
                    (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
        return frame

    def close(self) -> None:
        self._background = None

    def audio(self):  # noqa: ANN201
        if self.t0 is None:
            raise CaptureError("Open the synthetic source before asking for its sound.")
        return SyntheticAudio(self.t0, marks=self.marks, tone_hz=self.tone_hz, clock=self.clock)


# -- choosing a source -------------------------------------------------------------------------


def parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CaptureError(f"“{text}” is not a size; write it as WIDTHxHEIGHT, e.g. 1280x720.") from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320) or w % 2 or h % 2:
        raise CaptureError(f"{w}x{h} is not a size we can record (even numbers from 16x16 to 7680x4320).")
    return w, h


def make_source(spec: str, *, size: tuple[int, int] | None = None, fps: float | None = None) -> FrameSource:
    """``synthetic``, ``camera:N`` or ``file:PATH`` → a source (not opened yet)."""
    if spec == "synthetic":
        return SyntheticSource(size or (1280, 720), fps or 30.0)
    if spec.startswith("camera:"):
        index = spec.split(":", 1)[1]
        if not index.isdigit():
            raise CaptureError(f"“{spec}” is not a camera; use camera:0, camera:1, …")
        return OpenCVSource(int(index), size, fps, realtime=False, name=f"Camera {index}")
    if spec.startswith("file:"):
        path = Path(spec.split(":", 1)[1]).expanduser()
        if not path.is_file():
            raise CaptureError(f"“{path}” does not exist; file:PATH must name a video file.")
        return OpenCVSource(path, None, None, realtime=True, name=path.name)
    raise CaptureError(f"Unknown source “{spec}”; use synthetic, camera:N or file:PATH.")


class Mailbox:
    """A single slot holding the newest frame: the preview never waits behind the encoder."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item: tuple[np.ndarray, float] | None = None
        self.seq = 0

    def put(self, frame: np.ndarray, ts: float) -> None:
        with self._cond:
            self._item = (frame, ts)
            self.seq += 1
            self._cond.notify_all()

    def latest(self) -> tuple[int, np.ndarray | None, float | None]:
        with self._cond:
            if self._item is None:
                return self.seq, None, None
            return self.seq, self._item[0], self._item[1]

    def wait_newer(self, seq: int, timeout: float) -> tuple[int, np.ndarray | None, float | None]:
        with self._cond:
            self._cond.wait_for(lambda: self.seq > seq, timeout)
        return self.latest()
