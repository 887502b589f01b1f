"""The capture pipeline: capture worker (QThread) → preview mailbox + take writer (encoder thread → ffmpeg).

    session = CaptureSession(layout, make_source("synthetic"))
    session.open()                       # blocking: call off the UI thread
    session.start_take(max_seconds=30)   # spawns ffmpeg; frames flow into cache/takes/<id>/
    session.take_done.wait()             # max length, disk guard or end of the source
    take = session.stop_take()           # blocking: finishes the file (remux + sound)
    session.close()

Timing: every frame carries the monotonic instant it was captured. The take has a constant frame
rate; frame ``ts`` goes into slot ``round((ts - t0) * fps)``: a slot with no new frame repeats the
previous picture ("late"), a second frame for one slot is dropped. So a camera that varies its rate
keeps real time: no drift, no speed-up. Sound is placed by its own timestamps on the same clock.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from studio.capture import takes
from studio.capture.audio import AudioInput, MicrophoneInput, default_microphone
from studio.capture.devices import DEFAULT_MICROPHONE  # noqa: F401 - the default of microphone=, named here too
from studio.capture.sources import CaptureError, FrameSource, Mailbox
from studio.errors import DiskFullError  # noqa: F401 - the one DiskFullError (was a CaptureError here)
from studio.media.encode import start_take_writer
from studio.media.probe import MediaInfo, probe
from studio.paths import DataLayout

log = logging.getLogger(__name__)

DEFAULT_MIN_FREE_BYTES = 300 * 2**20
MAX_TAKE_SECONDS = 180


@dataclass
class TakeStats:
    captured: int = 0      # frames the source delivered while recording
    written: int = 0       # frames in the take (constant rate)
    dropped: int = 0       # frames thrown away because the encoder fell behind
    late: int = 0          # slots filled by repeating a picture (the source was late or skipped)
    extra: int = 0         # frames that arrived faster than the take's rate
    audio_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Take:
    """A finished take, ready to be saved into a draft or discarded."""

    id: str
    dir: Path
    media: Path
    duration_us: int
    fps: float
    size: tuple[int, int]
    has_audio: bool
    stop_reason: str
    info: MediaInfo = field(repr=False)   # the finished file, described once here; the drafts store trusts it
    stats: TakeStats = field(default_factory=TakeStats)

    @classmethod
    def from_folder(cls, take_dir: Path) -> "Take | None":
        """A finished take folder left in cache/takes (recovered, or never saved) as a Take; None when
        it holds no media. Raises MediaError when its file cannot be read."""
        take_dir = Path(take_dir)
        if not take_dir.is_dir():
            return None
        manifest = takes.read_manifest(take_dir)
        media = takes.media_of(take_dir, manifest)
        if media is None:
            return None
        info = probe(media)
        fps = (info.video.fps if info.video else None) or float(manifest.get("fps") or 30)
        size = info.video.display_size if info.video else (0, 0)
        return cls(id=manifest.get("id") or take_dir.name, dir=take_dir, media=media,
                   duration_us=int(info.duration_us or 0), fps=fps, size=size, has_audio=info.has_audio,
                   stop_reason=manifest.get("stop_reason") or "recovered", info=info)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("id", "duration_us", "fps", "size", "has_audio", "stop_reason")}
        d.update(dir=str(self.dir), media=str(self.media), stats=asdict(self.stats))
        return d

    def release(self) -> None:
        """Let go of the take folder: from now on recovery may offer it (call before save or discard)."""
        lock = self.__dict__.pop("_lock", None)
        if lock is not None:
            lock.release()


STOP_MESSAGES = {
    "user": "",
    "max_length": "The take reached its maximum length.",
    "disk_full": "Recording stopped because the disk is almost full; what was recorded is kept. "
                 "Free some space before recording again.",
    "source_ended": "The source stopped delivering pictures; what was recorded is kept.",
    "encoder_failed": "The video encoder stopped unexpectedly; what was recorded is kept.",
}


class TakeWriter:
    """Writes one take. ``offer_frame``/``offer_audio`` never block the threads that call them."""

    def __init__(self, layout: DataLayout, *, size: tuple[int, int], fps: float, source: str,
                 audio: tuple[int, int] | None, max_seconds: float | None = None,
                 min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
                 disk_free: Callable[[Path], int] | None = None, preset: str | None = None):
        self.layout = layout
        self.size, self.fps = size, float(fps)
        self.audio_format = audio          # (sample_rate, channels) or None for a silent take
        self.max_slots = None if not max_seconds else max(1, round(max_seconds * self.fps))
        self.min_free_bytes = min_free_bytes
        self.disk_free = disk_free or (lambda p: shutil.disk_usage(p).free)
        self.preset = preset
        self.source_name = source
        self.id = uuid.uuid4().hex
        self.dir = layout.takes / self.id
        self.stats = TakeStats()
        self.done = threading.Event()
        self.stop_reason: str | None = None
        self.manifest: dict = {}
        self._frames: queue.Queue = queue.Queue(maxsize=max(4, round(self.fps / 2)))
        self._lock = takes.TakeLock(self.dir)
        self._proc = None
        self._thread: threading.Thread | None = None
        self._audio_file = None
        self._audio_lock = threading.Lock()
        self._audio_written = 0         # samples per channel
        self.video_t0: float | None = None
        self.audio_t0: float | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.layout.takes.mkdir(parents=True, exist_ok=True)
        free = self.disk_free(self.layout.takes)
        if free < self.min_free_bytes:
            raise DiskFullError(f"Only {free / 2**20:.0f} MB are free in {self.layout.cache}; recording needs at "
                                f"least {self.min_free_bytes / 2**20:.0f} MB. Free some space and try again.")
        self.dir.mkdir()
        self._lock.acquire()
        self.manifest = {
            "id": self.id, "created_at": datetime.now(timezone.utc).isoformat(), "state": "recording",
            "source": self.source_name, "width": self.size[0], "height": self.size[1], "fps": self.fps,
            "media": takes.FRAGMENTED_VIDEO, "video": takes.FRAGMENTED_VIDEO, "audio": None,
        }
        if self.audio_format:
            rate, channels = self.audio_format
            self.manifest["audio"] = {"file": takes.RAW_AUDIO, "sample_rate": rate, "channels": channels,
                                      "offset_us": None}
            self._audio_file = open(self.dir / takes.RAW_AUDIO, "wb", buffering=0)  # noqa: SIM115
        takes.write_manifest(self.dir, self.manifest)
        self._proc = start_take_writer(self.dir / takes.FRAGMENTED_VIDEO, self.size, self.fps,
                                       log_file=self.dir / "ffmpeg.log", preset=self.preset)
        self._thread = threading.Thread(target=self._encode_loop, name=f"take-encoder-{self.id[:6]}", daemon=True)
        self._thread.start()

    def offer_frame(self, frame: np.ndarray, ts: float) -> None:
        if self.done.is_set():
            return
        self.stats.captured += 1
        try:
            self._frames.put_nowait((frame, ts))
        except queue.Full:
            self.stats.dropped += 1

    def offer_audio(self, pcm: bytes, ts: float) -> None:
        """Append sound whose first sample was heard at ``ts``; gaps become silence, overlaps are cut."""
        if self._audio_file is None or self.done.is_set():
            return
        rate, channels = self.audio_format
        frame_bytes = 2 * channels
        with self._audio_lock:
            if self._audio_file is None:
                return
            if self.audio_t0 is None:
                self.audio_t0 = ts
                self._note_offsets()
            expected = self.audio_t0 + self._audio_written / rate
            shift = round((ts - expected) * rate)
            tolerance = rate // 25
            if shift > tolerance:
                self._audio_file.write(bytes(shift * frame_bytes))
                self._audio_written += shift
            elif shift < -tolerance:
                pcm = pcm[min(len(pcm), -shift * frame_bytes):]
            self._audio_file.write(pcm)
            self._audio_written += len(pcm) // frame_bytes
            self.stats.audio_seconds = self._audio_written / rate

    def finish(self, *, hold: bool = False) -> Take:
        """Stop writing, wait for ffmpeg and turn the take into its finished file. Blocking.

        ``hold``: keep the folder locked until ``Take.release()``, so start-up recovery in this
        process does not offer a take the Record page still shows.
        """
        self._request_stop(self.stop_reason or "user")
        if self._thread is not None:
            self._frames.put(None)
            self._thread.join()
        self._close_encoder()
        with self._audio_lock:
            if self._audio_file is not None:
                self._audio_file.close()
                self._audio_file = None
        self.manifest.update(frames=self.stats.written, stop_reason=self.stop_reason, stats=self.stats.to_dict())
        takes.write_manifest(self.dir, self.manifest)
        if self.stats.written == 0:
            self._lock.release()
            takes.discard(self.dir)   # nothing to lose, nothing to offer back
            raise CaptureError("Nothing was recorded: the source delivered no pictures.")
        try:
            media = takes.finalize(self.dir)
        except BaseException:
            self._lock.release()
            raise
        manifest = takes.read_manifest(self.dir)
        take = Take(id=self.id, dir=self.dir, media=media, duration_us=round(self.stats.written * 1e6 / self.fps),
                    fps=self.fps, size=self.size, has_audio=bool(manifest.get("has_audio")),
                    stop_reason=self.stop_reason or "user", info=probe(media), stats=self.stats)
        if hold:
            take._lock = self._lock
        else:
            self._lock.release()
        return take

    def abandon(self) -> None:
        """Stop and delete everything (a take that never got going)."""
        self._request_stop("user")
        if self._thread is not None:
            self._frames.put(None)
            self._thread.join()
        self._close_encoder()
        if self._audio_file is not None:
            self._audio_file.close()
            self._audio_file = None
        self._lock.release()
        takes.discard(self.dir)

    # -- internals -----------------------------------------------------------------------------
    def _request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.done.set()

    def _note_offsets(self) -> None:
        if self.video_t0 is not None and self.audio_t0 is not None and self.manifest.get("audio"):
            self.manifest["audio"]["offset_us"] = round((self.audio_t0 - self.video_t0) * 1e6)
            takes.write_manifest(self.dir, self.manifest)

    def _close_encoder(self) -> None:
        if self._proc is None:
            return
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=60)
        except Exception:  # noqa: BLE001 - a hung encoder must not hang the app
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def _encode_loop(self) -> None:
        next_slot, last = 0, None
        check_every = max(1, round(self.fps))
        while True:
            item = self._frames.get()
            if item is None:
                return
            if self.done.is_set():
                continue
            frame, ts = item
            if self.video_t0 is None:
                self.video_t0 = ts
                with self._audio_lock:
                    self._note_offsets()
            slot = round((ts - self.video_t0) * self.fps)
            if slot < next_slot:
                self.stats.extra += 1
                continue
            data = self._frame_bytes(frame)
            try:
                while next_slot < slot and last is not None and not self._full(next_slot):
                    self._write(last)
                    self.stats.late += 1
                    next_slot += 1
                if self._full(next_slot):
                    self._request_stop("max_length")
                    continue
                self._write(data)
            except (BrokenPipeError, OSError, ValueError) as e:
                log.error("take encoder stopped: %s", e)
                self._request_stop("encoder_failed")
                continue
            last = data
            next_slot += 1
            self.stats.written = next_slot
            if self._full(next_slot):
                self._request_stop("max_length")
            elif next_slot % check_every == 0 and self._disk_low():
                self._request_stop("disk_full")

    def _full(self, slots: int) -> bool:
        return self.max_slots is not None and slots >= self.max_slots

    def _disk_low(self) -> bool:
        try:
            return self.disk_free(self.dir) < self.min_free_bytes
        except OSError:
            return False

    def _frame_bytes(self, frame: np.ndarray) -> memoryview:
        h, w = frame.shape[:2]
        if (w, h) != self.size:
            import cv2

            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        # A view, not a copy: at 1080p a copy is 6 MB per frame made while holding the GIL.
        return memoryview(np.ascontiguousarray(frame[:, :, :3])).cast("B")

    def _write(self, data: memoryview) -> None:
        while data:
            written = self._proc.stdin.write(data)
            data = data[written:]


class CaptureSession:
    """A source that is open (preview running), and at most one take being written from it.

    ``audio``: "auto" (the source's own sound, else the default microphone, else none), None for
    silent takes, or an AudioInput. ``audio_note`` tells the creator which it is. ``microphone``:
    the QAudioDevice to use for "auto" (the GUI looks it up on its own thread; Qt Multimedia's device
    list is not meant to be read from workers), None for "there is none"; by default it is looked up.
    """

    def __init__(self, layout: DataLayout, source: FrameSource, *, audio: str | AudioInput | None = "auto",
                 preview_height: int = 540, fps: float | None = None, microphone=DEFAULT_MICROPHONE):  # noqa: ANN001
        self.layout = layout
        self.source = source
        self.mailbox = Mailbox()
        self.preview_height = preview_height
        self.requested_fps = fps
        self._audio_choice = audio
        self._microphone = microphone
        self.audio: AudioInput | None = None
        self.audio_note = ""
        self._thread = None
        self._stop = threading.Event()
        self.ended = threading.Event()
        self._writer: TakeWriter | None = None
        self._writer_lock = threading.Lock()

    # -- open / close --------------------------------------------------------------------------
    def open(self) -> None:
        """Open the source and start the capture worker. Blocking; raises CaptureError."""
        from PySide6.QtCore import QThread

        self.source.open()
        self.audio = self._pick_audio()
        session = self

        class CaptureWorker(QThread):
            def run(self) -> None:
                session._capture_loop()

        self._stop.clear()
        self.ended.clear()
        self._thread = CaptureWorker()
        self._thread.start()

    def _pick_audio(self) -> AudioInput | None:
        choice = self._audio_choice
        if isinstance(choice, AudioInput):
            self.audio_note = f"Sound: {choice.name}"
            return choice
        if choice is None:
            self.audio_note = "Sound is off: takes are recorded without sound."
            return None
        if self.source.has_audio:
            audio = self.source.audio()
            self.audio_note = f"Sound: {audio.name}"
            return audio
        device = default_microphone() if self._microphone is DEFAULT_MICROPHONE else self._microphone
        if device is None:
            self.audio_note = "No microphone found: takes are recorded without sound."
            return None
        mic = MicrophoneInput(device)
        self.audio_note = f"Sound: {mic.name}"
        return mic

    def close(self) -> None:
        """Stop any take (kept, finished) and release the source. Blocking."""
        if self.recording:
            try:
                self.stop_take()
            except CaptureError as e:
                log.warning("take at close: %s", e)
        self._stop.set()
        if self._thread is not None and self._thread.wait(10_000):
            # (A worker still stuck in a driver call is kept referenced: deleting a running QThread aborts.)
            self._thread = None
        self.source.close()

    @property
    def fps(self) -> float:
        return float(self.requested_fps or self.source.fps)

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def writer(self) -> TakeWriter | None:
        return self._writer

    @property
    def take_done(self) -> threading.Event:
        """Set when the take stopped by itself (max length, disk guard, end of source, encoder)."""
        w = self._writer
        return w.done if w is not None else threading.Event()

    # -- takes ---------------------------------------------------------------------------------
    def start_take(self, *, max_seconds: float | None = None, min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
                   disk_free: Callable[[Path], int] | None = None, preset: str | None = None) -> TakeWriter:
        """Start writing a take. Raises DiskFullError, CaptureError."""
        if self._writer is not None:
            raise CaptureError("A take is already being recorded.")
        if self.ended.is_set():
            raise CaptureError(STOP_MESSAGES["source_ended"])
        audio = self.audio
        writer = TakeWriter(self.layout, size=self.source.size, fps=self.fps, source=self.source.name,
                            audio=(audio.sample_rate, audio.channels) if audio else None,
                            max_seconds=min(max_seconds or MAX_TAKE_SECONDS, MAX_TAKE_SECONDS),
                            min_free_bytes=min_free_bytes, disk_free=disk_free, preset=preset)
        writer.start()
        with self._writer_lock:
            self._writer = writer
        if audio is not None:
            try:
                audio.start(writer.offer_audio)
            except Exception as e:  # noqa: BLE001 - a broken microphone must not lose the picture
                log.warning("sound input failed to start: %s", e)
                self.audio_note = f"The microphone could not be opened ({e}); this take has no sound."
        return writer

    def stop_take(self, *, hold: bool = False) -> Take:
        """Stop the current take and finish its file. Blocking; raises CaptureError.

        ``hold``: see TakeWriter.finish (the caller must ``release()`` the take before saving it).
        """
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is None:
            raise CaptureError("No take is being recorded.")
        if self.audio is not None:
            self.audio.stop()
        return writer.finish(hold=hold)

    # -- the capture worker --------------------------------------------------------------------
    def _capture_loop(self) -> None:
        import cv2

        try:
            while not self._stop.is_set():
                item = self.source.read()
                if item is None:
                    break
                frame, ts = item
                writer = self._writer
                if writer is not None:
                    writer.offer_frame(frame, ts)
                h, w = frame.shape[:2]
                if h > self.preview_height:
                    scale = self.preview_height / h
                    frame = cv2.resize(frame, (round(w * scale) // 2 * 2, self.preview_height),
                                       interpolation=cv2.INTER_LINEAR)
                self.mailbox.put(frame, ts)
        except Exception:  # noqa: BLE001 - logged; the take so far is kept
            log.exception("capture worker failed")
        finally:
            self.ended.set()
            writer = self._writer
            if writer is not None and not self._stop.is_set():
                writer._request_stop("source_ended")


def record_take(layout: DataLayout, source: FrameSource, *, seconds: float | None, audio="auto",  # noqa: ANN001
                fps: float | None = None, on_started: Callable[[TakeWriter], None] | None = None,
                stop: threading.Event | None = None) -> Take:
    """Headless: open ``source``, record up to ``seconds`` (or until ``stop`` / the source ends), finish."""
    session = CaptureSession(layout, source, audio=audio, fps=fps)
    session.open()
    try:
        writer = session.start_take(max_seconds=seconds)
        if on_started is not None:
            on_started(writer)
        stop = stop or threading.Event()
        while not writer.done.is_set() and not stop.is_set():
            writer.done.wait(0.1)
        return session.stop_take()
    finally:
        session.close()
