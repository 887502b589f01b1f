"""Sound out: PCM that ffmpeg writes, played through the default output device (Qt Multimedia).

The editor's playback plays the export's audio mix with it, and take review on the Record page
plays a take's own sound. Without an output device (a server, a container) ``AudioFeed.start``
does nothing and returns False, and the caller says that playback is silent.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QIODevice, QObject

from studio.media import ffmpeg

RATE = 48_000


def pcm_argv(media, start_us: int = 0) -> list[str]:  # noqa: ANN001 - str | Path
    """ffmpeg argv (no binary) writing ``media``'s sound from ``start_us`` to stdout as s16le 48 kHz
    stereo, what ``AudioFeed`` plays."""
    return ["-v", "error", "-nostdin", "-ss", f"{max(0, start_us) / 1e6:.6f}", "-i", str(media), "-vn",
            "-map", "0:a:0", "-f", "s16le", "-ac", "2", "-ar", str(RATE), "pipe:1"]


def audio_output_available() -> bool:
    """True when the system has a sound output device Qt Multimedia can play to."""
    try:
        from PySide6.QtMultimedia import QMediaDevices

        return not QMediaDevices.defaultAudioOutput().isNull()
    except Exception:  # noqa: BLE001 - no multimedia backend at all means no sound
        return False


class PcmSource(QIODevice):
    """Pull-mode source for QAudioSink: PCM bytes pushed by a reader thread, silence on underrun
    (so the sound device's clock keeps running with the picture instead of stalling)."""

    def __init__(self, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self.finished = False
        self.open(QIODevice.OpenModeFlag.ReadOnly)

    def push(self, data: bytes) -> None:
        with self._lock:
            self._buf += data

    def buffered(self) -> int:
        with self._lock:
            return len(self._buf)

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 - Qt's name
        with self._lock:
            n = min(len(self._buf), maxlen)
            n -= n % 4  # whole stereo 16-bit frames only; a partial one waits for its rest
            if n == 0 and self.finished:
                return b""
            data = bytes(self._buf[:n])
            del self._buf[:n]
        return data if data else b"\0" * min(maxlen - maxlen % 4, 4 * 480)

    def writeData(self, _data: bytes) -> int:  # noqa: N802 - Qt's name
        return -1

    def isSequential(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def bytesAvailable(self) -> int:  # noqa: N802 - Qt's name
        return self.buffered() + super().bytesAvailable()


class AudioFeed(QObject):
    """Plays PCM from an ffmpeg argv (the reel's mix, ``preview.audio_argv``; a take's sound,
    ``pcm_argv``) through the default output device.

    Lives on the UI thread (QAudioSink needs an event loop); an ffmpeg process writes PCM that a
    reader thread hands to the sink. Without an output device ``start`` does nothing and returns
    False — the page tells the creator playback is silent.
    """

    RATE = RATE
    MAX_BUFFER = 48_000 * 4 * 2  # about 2 s ahead is plenty and bounds memory

    def __init__(self, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.available = audio_output_available()
        self._sink = None
        self._source = None
        self._proc = None
        self._reader = None
        self._stop = threading.Event()

    def start(self, argv: list[str]) -> bool:
        self.stop()
        if not self.available:
            return False
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        fmt = QAudioFormat()
        fmt.setSampleRate(self.RATE)
        fmt.setChannelCount(2)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._stop.clear()
        self._proc = ffmpeg.spawn(argv, stdout=True)
        self._source = PcmSource(self)
        self._reader = threading.Thread(target=self._read, args=(self._proc, self._source), daemon=True)
        self._reader.start()
        self._sink = QAudioSink(QMediaDevices.defaultAudioOutput(), fmt, self)
        self._sink.start(self._source)
        return True

    def _read(self, proc, source: PcmSource) -> None:  # noqa: ANN001 - runs on the reader thread
        while not self._stop.is_set():
            if source.buffered() > self.MAX_BUFFER:
                time.sleep(0.02)
                continue
            chunk = proc.stdout.read(4 * 2400)
            if not chunk:
                break
            source.push(chunk)
        source.finished = True

    def stop(self) -> None:
        self._stop.set()
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None
        if self._proc is not None:
            self._proc.close()
            self._proc = None
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None
        if self._source is not None:
            self._source.close()
            self._source.deleteLater()
            self._source = None
