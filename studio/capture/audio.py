"""Sound inputs on the recorder's clock: a microphone through Qt Multimedia, or the synthetic tone.

An input calls ``sink(pcm, ts)`` from its own thread with 16-bit little-endian PCM (interleaved,
``channels`` wide) and ``ts``, the time.monotonic() instant of the chunk's first sample. The take
writer places the samples by those instants, so sound and picture line up however late a chunk arrives.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Callable

import numpy as np

from studio.capture.clock import Clock, SyncMarks

log = logging.getLogger(__name__)

Sink = Callable[[bytes, float], None]
SAMPLE_RATE = 48_000


class AudioInput:
    name = "audio"
    sample_rate = SAMPLE_RATE
    channels = 1

    def start(self, sink: Sink) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class SyntheticAudio(AudioInput):
    """A quiet 440 Hz tone with a loud 1 kHz beep wherever the source flashes (same ``t0``)."""

    name = "Test tone"
    CHUNK_SECONDS = 0.02

    def __init__(self, t0: float, *, marks: SyncMarks | None, tone_hz: float = 440.0, clock: Clock = time.monotonic):
        self.t0 = t0
        self.marks = marks
        self.tone_hz = tone_hz
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def samples(self, first: int, count: int) -> np.ndarray:
        """Samples ``first`` .. ``first + count`` counted from ``t0`` (int16, mono)."""
        idx = np.arange(first, first + count, dtype=np.float64)
        t = idx / self.sample_rate
        wave = 0.08 * np.sin(2 * np.pi * self.tone_hz * t)
        if self.marks is not None:
            since = t - self.marks.first
            beep = (since >= 0) & (np.mod(since, self.marks.every) < self.marks.length)
            wave = np.where(beep, 0.7 * np.sin(2 * np.pi * 1000.0 * t), wave)
        return (wave * 32767).astype("<i2")

    def start(self, sink: Sink) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(sink,), name="synthetic-audio", daemon=True)
        self._thread.start()

    def _run(self, sink: Sink) -> None:
        chunk = int(self.sample_rate * self.CHUNK_SECONDS)
        pos = max(0, math.floor((self.clock() - self.t0) * self.sample_rate))
        while not self._stop.is_set():
            # Like a sound card: a chunk is handed over once its last sample has been "heard".
            ready_at = self.t0 + (pos + chunk) / self.sample_rate
            wait = ready_at - self.clock()
            if wait > 0 and self._stop.wait(wait):
                break
            sink(self.samples(pos, chunk).tobytes(), self.t0 + pos / self.sample_rate)
            pos += chunk

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None


def default_microphone():  # noqa: ANN201 - a QAudioDevice or None
    """The system's default audio input, or None (no microphone, or Qt Multimedia unusable)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return None
    dev = QMediaDevices.defaultAudioInput()
    return None if dev.isNull() else dev


def find_microphone(device_id: str):  # noqa: ANN201 - a QAudioDevice or None
    """The audio input whose id (as studio.capture.devices lists it, ``mic:…``) is ``device_id``.

    Call it on the thread that owns the application (Qt Multimedia's device list lives there).
    """
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return None
    wanted = device_id.removeprefix("mic:")
    for dev in QMediaDevices.audioInputs():
        if bytes(dev.id()).decode(errors="replace") == wanted:
            return dev
    return None


class MicrophoneInput(AudioInput):
    """A QAudioSource read on its own QThread (with an event loop, as Qt Multimedia wants).

    ``factory(fmt)`` builds the QAudioSource-like object (tests pass a fake; there is no microphone
    on CI). Each read's samples end "now", so the first one started ``len / rate`` earlier; later
    reads are placed by counting samples, which is steadier than the jittery wake-up times.
    """

    POLL_MS = 10

    def __init__(self, device=None, *, factory: Callable | None = None, clock: Clock = time.monotonic,  # noqa: ANN001
                 name: str | None = None):
        self.device = device
        self.factory = factory
        self.clock = clock
        self.name = name or (device.description() if device is not None else "Microphone")
        self._thread = None

    def _make_source(self):  # noqa: ANN202
        from PySide6.QtMultimedia import QAudioFormat, QAudioSource

        fmt = QAudioFormat()
        fmt.setSampleRate(self.sample_rate)
        fmt.setChannelCount(self.channels)
        fmt.setSampleFormat(QAudioFormat.Int16)
        if self.factory is not None:
            return self.factory(fmt)
        return QAudioSource(self.device, fmt) if self.device is not None else QAudioSource(fmt)

    def start(self, sink: Sink) -> None:
        """Start reading on a QThread. Raises OSError with a sentence when there is no microphone."""
        from PySide6.QtCore import QThread, QTimer

        if self.factory is None and self.device is None:
            from PySide6.QtMultimedia import QMediaDevices

            if QMediaDevices.defaultAudioInput().isNull():
                raise OSError("this computer has no microphone")
        mic = self

        class Reader(QThread):
            def run(self) -> None:
                source = mic._make_source()
                io = source.start()
                if io is None:   # the device went away or is busy: nothing to read, and no crash
                    log.warning("microphone %s could not be opened", mic.name)
                    return
                placer = _ChunkPlacer(mic.sample_rate * mic.channels * 2, mic.clock)

                def poll() -> None:
                    data = bytes(io.readAll())
                    if data:
                        sink(data, placer.place(len(data)))

                timer = QTimer()
                timer.timeout.connect(poll)
                timer.start(mic.POLL_MS)
                self.exec()
                timer.stop()
                poll()
                source.stop()

        self._thread = Reader()
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(3000)
            self._thread = None


class _ChunkPlacer:
    """Turns "n bytes just arrived" into the monotonic time of their first sample."""

    RESYNC_SECONDS = 0.06

    def __init__(self, bytes_per_second: int, clock: Clock):
        self.bps = bytes_per_second
        self.clock = clock
        self.anchor: float | None = None
        self.received = 0

    def place(self, nbytes: int) -> float:
        now = self.clock()
        measured = now - nbytes / self.bps
        counted = None if self.anchor is None else self.anchor + self.received / self.bps
        if counted is None or abs(measured - counted) > self.RESYNC_SECONDS:
            # First chunk, or the device dropped/stalled: trust the wall of the clock again.
            self.anchor, self.received = measured, 0
            counted = measured
        self.received += nbytes
        return counted
