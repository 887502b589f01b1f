"""Take review: play a finished take at its own pace into a mailbox, the way the live preview is fed.

The Record page shows whichever mailbox is live (camera or review), so a take plays in place, in
the same view, before the creator keeps it. Frames come from studio.media.decoder (PyAV, in
process); the take's sound is played beside it by the session (studio.media.sound).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from studio.capture.clock import Clock
from studio.capture.sources import Mailbox
from studio.media.decoder import VideoDecoder

log = logging.getLogger(__name__)


class TakePlayer:
    """Plays ``media`` once from the start; ``finished`` is set at the end, on ``stop()`` or on error."""

    def __init__(self, media: Path, *, height: int = 540, clock: Clock = time.monotonic):
        self.media = Path(media)
        self.height = height
        self.clock = clock
        self.mailbox = Mailbox()
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.frames_shown = 0
        self.position_us = 0
        self.duration_us = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="take-review", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.finished.set()

    def _run(self) -> None:
        try:
            with VideoDecoder(self.media) as dec:
                self.duration_us = dec.duration_us
                w, h = dec.display_size
                size = (round(w * self.height / h) // 2 * 2, self.height) if h > self.height else None
                step = 1.0 / (dec.fps or 30.0)
                t0 = self.clock()
                while not self._stop.is_set():
                    t_us = round((self.clock() - t0) * 1e6)
                    if self.duration_us and t_us >= self.duration_us:
                        break
                    rgb = dec.frame_at(t_us, size=size)
                    self.position_us = t_us
                    self.mailbox.put(rgb[:, :, ::-1], t0 + t_us / 1e6)   # the preview expects BGR
                    self.frames_shown += 1
                    self._stop.wait(step)
        except Exception as e:  # noqa: BLE001 - reported through ``error``; review is never fatal
            log.warning("take review of %s failed: %s", self.media.name, e)
            self.error = e
        finally:
            self.finished.set()
