"""Playback and scrubbing off the UI thread.

``PlaybackWorker`` is a QThread that owns the ``PreviewCompositor``. The UI posts requests
(seek, play, pause, new edit); only the newest pending request matters, so a fast scrub never
builds a queue. Frames come back as ``frameReady(QImage, t_us, exact)`` on the UI thread.

* seek: the fast frame at once, then — if the playhead rests for ``SETTLE_S`` — the exact frame
  from the export's render graph, so a paused preview is exactly what exports.
* play at 1×: one long-lived ffmpeg pipe running the render graph from t, paced by the wall
  clock, late frames dropped. Other rates (J/L pressed twice, reverse) use the fast path.
* sound: ``studio.media.sound.AudioFeed`` plays the export's audio mix through QAudioSink when the system has an
  output device; without one, playback runs silently and ``audioStatus`` says so.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from studio.editor.preview import PreviewCompositor, last_frame_us, snap_to_frame
from studio.media import ffmpeg
from studio.media.sound import audio_output_available

log = logging.getLogger(__name__)
US = 1_000_000
SETTLE_S = 0.15


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (safe to hand to another thread)."""
    h, w = rgb.shape[:2]
    return QImage(np.ascontiguousarray(rgb).data, w, h, w * 3, QImage.Format.Format_RGB888).copy()


@dataclass
class _Request:
    kind: str           # "seek" | "play" | "pause" | "edit" | "stop"
    t_us: int = 0
    rate: float = 1.0
    exact: bool = True
    edit: object = None
    assets: object = None


class PlaybackWorker(QThread):
    frameReady = Signal(QImage, int, bool)    # image, timeline µs, exact (render graph) or fast
    positionChanged = Signal(int)
    playingChanged = Signal(bool)
    failed = Signal(str)
    audioStatus = Signal(str)
    overlaysReady = Signal(list)              # [RasterOverlay] at preview size, after each edit

    def __init__(self, compositor: PreviewCompositor, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.compositor = compositor
        self._cond = threading.Condition()
        self._pending: _Request | None = None
        self._stopping = False
        self.position_us = 0
        self.playing = False
        self.frames_shown = 0
        self.has_audio_device = audio_output_available()

    # -- requests from the UI thread ----------------------------------------------------------------
    def _post(self, req: _Request) -> None:
        with self._cond:
            if self._stopping:
                return
            old = self._pending
            if req.kind == "edit" and old is not None and old.kind != "edit":
                # keep the position/playing intent and carry the new edit with it
                old.edit, old.assets = req.edit, req.assets
            else:
                if old is not None and old.edit is not None and req.edit is None:
                    req.edit, req.assets = old.edit, old.assets  # a newer position must not lose an edit
                self._pending = req
            self._cond.notify()

    def seek(self, t_us: int, *, exact: bool = True) -> None:
        self._post(_Request("seek", int(t_us), exact=exact))

    def play(self, t_us: int | None = None, rate: float = 1.0) -> None:
        self._post(_Request("play", self.position_us if t_us is None else int(t_us), rate=rate))

    def pause(self) -> None:
        self._post(_Request("pause", self.position_us))

    def set_edit(self, edit, assets=None) -> None:  # noqa: ANN001 - Edit, dict of MediaRef
        self._post(_Request("edit", self.position_us, edit=edit, assets=assets))

    def stop(self, timeout_ms: int = 5000) -> None:
        """Ask the worker to finish and wait for it (call before the owner is destroyed)."""
        with self._cond:
            self._stopping = True
            self._pending = _Request("stop")
            self._cond.notify()
        self.wait(timeout_ms)

    # -- the worker thread ------------------------------------------------------------------------
    def _take(self, timeout: float | None) -> _Request | None:
        with self._cond:
            if self._pending is None:
                self._cond.wait(timeout)
            req, self._pending = self._pending, None
            return req

    def _has_pending(self) -> bool:
        with self._cond:
            return self._pending is not None

    def run(self) -> None:
        if not self.has_audio_device:
            self.audioStatus.emit("No sound output device: playback is silent.")
        try:
            self.overlaysReady.emit(list(self.compositor.overlays()))
        except Exception as e:  # noqa: BLE001 - e.g. a sticker file is missing; the page says so
            self.failed.emit(str(e))
        settle_at: float | None = None
        while True:
            timeout = None if settle_at is None else max(0.0, settle_at - time.monotonic())
            req = self._take(timeout)
            if req is None:
                if settle_at is not None and time.monotonic() >= settle_at:
                    settle_at = None
                    self._show(self.position_us, exact=True)
                continue
            if req.kind == "stop":
                break
            try:
                settle_at = self._handle(req)
            except Exception as e:  # noqa: BLE001 - reported to the page, the worker keeps serving
                log.exception("preview failed")
                self.failed.emit(str(e) or e.__class__.__name__)
                settle_at = None
        self.compositor.close()

    def _handle(self, req: _Request) -> float | None:
        if req.edit is not None:
            self.compositor.set_edit(req.edit, req.assets)
            self.overlaysReady.emit(list(self.compositor.overlays()))
        if req.kind == "edit":
            req = _Request("seek", self.position_us)
        if req.kind == "pause":
            self._set_playing(False)
            return time.monotonic()  # show the exact frame where playback stopped
        if req.kind == "seek":
            self._set_playing(False)
            self._show(req.t_us, exact=False)
            return time.monotonic() + SETTLE_S if req.exact else None
        if req.kind == "play":
            self._play(req.t_us, req.rate)
            return time.monotonic() if not self.playing else None
        return None

    def _set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.playing = playing
            self.playingChanged.emit(playing)

    def _clamp(self, t_us: int) -> int:
        return max(0, min(int(t_us), last_frame_us(self.compositor.edit)))

    def _show(self, t_us: int, *, exact: bool) -> None:
        t_us = snap_to_frame(self.compositor.edit, self._clamp(t_us))
        self.position_us = t_us
        if not self.compositor.edit.clips:
            return
        if exact:
            # Abandoned as soon as the creator asks for something else (scrubbing resumed).
            rgb = self.compositor.exact_frame(t_us, cancel=self._has_pending)
            if rgb is None:
                return
        else:
            rgb = self.compositor.fast_frame(t_us)
        self.frameReady.emit(to_qimage(rgb), t_us, exact)
        self.positionChanged.emit(t_us)

    def _play(self, t_us: int, rate: float) -> None:
        edit = self.compositor.edit
        start = snap_to_frame(edit, self._clamp(t_us))   # the frame the pipe starts with (and the sound)
        if rate > 0 and start >= last_frame_us(edit):
            start = 0  # play from the top when the playhead sits at the end
        self._set_playing(True)
        if rate == 1.0:
            finished = self._play_pipe(start)
        else:
            finished = self._play_fast(start, rate)
        if finished:
            self._set_playing(False)

    def _play_pipe(self, start: int) -> bool:
        """Render-graph playback; returns True when the reel ended (False if a request interrupted)."""
        edit = self.compositor.edit
        frame_us = US / edit.canvas.fps
        pipe = self.compositor.stream(start)
        t0 = time.monotonic()
        n = 0
        with pipe:
            for rgb in pipe:
                if self._has_pending():
                    return False
                t_us = start + round(n * frame_us)
                due = t0 + n * frame_us / US
                n += 1
                now = time.monotonic()
                if now > due + frame_us / US:
                    continue  # late: drop it, keep the clock
                if due > now:
                    time.sleep(due - now)
                self.position_us = t_us
                self.frames_shown += 1
                self.frameReady.emit(to_qimage(rgb), t_us, True)
                self.positionChanged.emit(t_us)
        return True

    def _play_fast(self, start: int, rate: float) -> bool:
        edit = self.compositor.edit
        end = edit.duration_us
        frame_us = US / edit.canvas.fps
        t0 = time.monotonic()
        last_shown = None
        while not self._has_pending():
            t_us = snap_to_frame(edit, start + round((time.monotonic() - t0) * US * rate))
            if t_us >= end or t_us < 0:
                self._show(max(0, min(t_us, end - 1)), exact=False)
                return True
            if t_us != last_shown:
                self.position_us = t_us
                self.frames_shown += 1
                self.frameReady.emit(to_qimage(self.compositor.fast_frame(t_us)), t_us, False)
                self.positionChanged.emit(t_us)
                last_shown = t_us
            else:
                time.sleep(frame_us / US / 4)
        return False
