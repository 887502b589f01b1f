"""RecordingSession: the record workflow as one object (QtCore only; no widgets).

The Record page and `studio record` both drive it; the page only renders its signals. It owns:
the open source (one camera worker at a time, a queued re-open while one is opening), the
countdown, the take being recorded, the list of finished takes (with delete + undo and review),
and save / discard / post. It keeps recording when no page shows it.

    session = RecordingSession(studio)
    session.open("synthetic", size=(640, 360))      # OPENING → READY
    session.toggle()                                 # READY → COUNTDOWN → STARTING → RECORDING
    session.toggle()                                 # RECORDING → STOPPING → READY, takesChanged
    session.save()                                   # READY → SAVING → READY, saved(draft, "draft")

Blocking work (open, start, stop, close, save, discard) runs through studio.tasks on a pool: a
one-thread pool for the camera (so its calls never overlap) and the global pool for saves. Pass a
``studio.tasks.SynchronousPool`` to run everything in line (tests, the CLI). Every failure is
emitted as ``error(exception)`` and leaves the session in a state from which the creator can go on;
no take is lost by a failure.
"""

from __future__ import annotations

import enum
import logging
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, QTimer, Signal

from studio.capture.devices import DEFAULT_MICROPHONE
from studio.tasks import run_in_background, user_message

# The recorder, the sources, review and the draft decisions (NumPy, the decoder, the draft store and
# SQLAlchemy) are imported where they are used, mostly on the camera's worker: a session is made with
# the Record page, which is on screen at the app's first paint, long before a source opens.

log = logging.getLogger(__name__)

UNDO_SECONDS = 8
POLL_MS = 100


class State(enum.Enum):
    CLOSED = "closed"          # no source open
    OPENING = "opening"        # a source is being opened
    READY = "ready"            # preview running, not recording
    COUNTDOWN = "countdown"    # counting down to a take
    STARTING = "starting"      # the take writer is starting
    RECORDING = "recording"    # a take is being written
    STOPPING = "stopping"      # the take is being finished
    SAVING = "saving"          # takes are being saved into a draft

    @property
    def recording(self) -> bool:
        """A take is under way (or about to be): the creator must not lose it by leaving."""
        return self in (State.COUNTDOWN, State.STARTING, State.RECORDING, State.STOPPING)


IDLE = (State.CLOSED, State.READY)


def clock_text(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


class RecordingSession(QObject):
    stateChanged = Signal(object)        # State
    takesChanged = Signal(list)          # the finished takes, in order
    elapsed = Signal(float)              # seconds recorded in the current take
    statsChanged = Signal(object)        # TakeStats of the current take
    countdownChanged = Signal(int)       # seconds left; 0 when no countdown runs
    notice = Signal(str)                 # a sentence for the creator ("" clears it)
    error = Signal(object)               # the exception; the state is already back to one that can go on
    sourceOpened = Signal(object)        # {"name", "audio_note", "free_bytes"}
    saved = Signal(object, str)          # Draft, then ("draft" | "edit" | "post")
    deletedChanged = Signal(int)         # deleted takes still waiting for their undo window to close
    reviewChanged = Signal(int)          # index of the take being played, -1 when none
    recoveredFound = Signal(list)        # unsaved takes from an earlier session (recovery report dicts)

    def __init__(self, studio, *, pool=None, parent: QObject | None = None):  # noqa: ANN001 - Studio, pool
        super().__init__(parent)
        self.studio = studio
        self.state = State.CLOSED
        self.takes: list[Take] = []
        self.max_seconds: float = 60
        self.countdown_seconds: int = 3
        self.preview_height = 540
        self.take_options: dict[str, Any] = {}    # passed to CaptureSession.start_take (disk guard, preset)
        self.capture: CaptureSession | None = None
        self.player: TakePlayer | None = None
        self.sound: AudioFeed | None = None     # made on the first review of a take with sound
        self._told_silent = False
        self.reviewing = -1
        self.source_spec: str | None = None
        self._open_args: tuple | None = None
        self._pending_open: tuple | None = None
        self._parked = False
        self._countdown_left = 0
        self._stop_when_started = False
        self._deleted: list[tuple[int, Take]] = []
        self._ended_told = False
        self._opened_in_background: list[CaptureSession] = []
        if pool is None:
            # One worker for the camera: open, start, stop and close run in order, never at once.
            camera_pool = QThreadPool(self)
            camera_pool.setMaxThreadCount(1)
            self._camera_pool, self._work_pool = camera_pool, None
        else:
            self._camera_pool = self._work_pool = pool
        self._countdown_timer = QTimer(self, interval=1000, timeout=self._countdown_step)
        self._poll_timer = QTimer(self, interval=POLL_MS, timeout=self.poll)
        self._undo_timer = QTimer(self, interval=UNDO_SECONDS * 1000, singleShot=True, timeout=self.purge_deleted)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- state ---------------------------------------------------------------------------------
    def _set_state(self, state: State) -> None:
        if state is self.state:
            return
        self.state = state
        self.stateChanged.emit(state)

    def _fail(self, exc: BaseException, state: State) -> None:
        self._set_state(state)
        self.notice.emit(user_message(exc))
        self.error.emit(exc)

    @property
    def recording(self) -> bool:
        return self.state.recording

    def elapsed_seconds(self) -> float:
        writer = self.capture.writer if self.capture is not None else None
        return writer.stats.written / writer.fps if writer is not None and self.state is State.RECORDING else 0.0

    def mailbox(self):  # noqa: ANN201 - sources.Mailbox | None
        """Where the picture to show is: the take under review, else the live source."""
        if self.player is not None:
            return self.player.mailbox
        return self.capture.mailbox if self.capture is not None else None

    # -- the source ----------------------------------------------------------------------------
    def open(self, spec: str | FrameSource = "synthetic", *, size: tuple[int, int] | None = None,
             fps: float | None = None, audio: Any = "auto", microphone: Any = DEFAULT_MICROPHONE) -> None:
        """(Re)open ``spec`` (synthetic, camera:N, file:PATH, or a FrameSource not opened yet). Ignored
        while a take is under way; queued while another source is opening or takes are being saved.
        Failures: error(CaptureError…), the session back in CLOSED."""
        args = (spec, size, fps, audio, microphone)
        self._parked = False
        if self.state.recording:
            return
        if self.state in (State.OPENING, State.SAVING):
            self._pending_open = args
            return
        self.stop_review()
        old, self.capture = self.capture, None
        self._poll_timer.stop()
        self._open_args = args
        self.source_spec = spec if isinstance(spec, str) else spec.name
        self._set_state(State.OPENING)
        run_in_background(self._open_capture, old, args, owner=self, pool=self._camera_pool,
                          on_done=self._opened, on_error=self._open_failed)

    def _open_capture(self, old: CaptureSession | None, args: tuple):  # noqa: ANN205 - runs on the camera pool
        from studio.capture.recorder import CaptureSession  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)
        from studio.capture.sources import make_source  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        spec, size, fps, audio, microphone = args
        if old is not None:
            old.close()
        source = make_source(spec, size=size, fps=fps) if isinstance(spec, str) else spec
        capture = CaptureSession(self.studio.layout, source, audio=audio, fps=fps,
                                 preview_height=self.preview_height, microphone=microphone)
        capture.open()
        self._opened_in_background[:] = [capture]
        return capture, shutil.disk_usage(self.studio.layout.cache).free

    def _opened(self, result: tuple) -> None:
        capture, free = result
        pending, self._pending_open = self._pending_open, None
        if pending is not None or self._parked:
            self._set_state(State.CLOSED)
            run_in_background(capture.close, owner=self, pool=self._camera_pool,
                              on_error=lambda e: log.warning("closing the camera: %s", e))
            if pending is not None and not self._parked:
                self.open(pending[0], size=pending[1], fps=pending[2], audio=pending[3], microphone=pending[4])
            return
        self.capture = capture
        self._ended_told = False
        self._set_state(State.READY)
        self.sourceOpened.emit({"name": capture.source.name, "audio_note": capture.audio_note, "free_bytes": free})
        self._poll_timer.start()

    def _open_failed(self, exc: BaseException) -> None:
        self._pending_open = None
        self._fail(exc, State.CLOSED)

    def close(self) -> None:
        """Release the source in the background (a take under way is finished and kept first)."""
        self.cancel_countdown()
        self.stop_review()
        if self.state.recording:
            # The take under way is finished and kept first; the camera goes right after it.
            self._parked = True
            self._stop_when_started = self.state is State.STARTING
            self.stop()
            return
        capture, self.capture = self.capture, None
        self._poll_timer.stop()
        if self.state is State.READY:
            self._set_state(State.CLOSED)
        if capture is not None:
            run_in_background(capture.close, owner=self, pool=self._camera_pool,
                              on_error=lambda e: log.warning("closing the camera: %s", e))

    def park(self) -> None:
        """No one is looking: release the camera now, or right after the take under way ends."""
        if self.state.recording:
            self._parked = True
        elif self.state is State.OPENING:
            self._parked = True
            self._pending_open = None
        else:
            self.close()
            self._parked = True

    def unpark(self) -> bool:
        """Someone looks again: True when the caller should (re)open a source."""
        self._parked = False
        return self.state is State.CLOSED

    # -- the take ------------------------------------------------------------------------------
    def toggle(self) -> None:
        """The record button / Space / R: start (with countdown), cancel the countdown, or stop."""
        if self.state is State.READY:
            self.start()
        elif self.state is State.COUNTDOWN:
            self.cancel_countdown()
        elif self.state is State.RECORDING:
            self.stop()

    def start(self) -> None:
        if self.state is not State.READY:
            return
        self.stop_review()
        self._countdown_left = int(self.countdown_seconds)
        self._set_state(State.COUNTDOWN)
        if self._countdown_left <= 0:
            self._begin_take()
            return
        self.countdownChanged.emit(self._countdown_left)
        self._countdown_timer.start()

    def cancel_countdown(self) -> None:
        if self.state is State.COUNTDOWN:
            self._countdown_timer.stop()
            self.countdownChanged.emit(0)
            self._set_state(State.READY)

    def _countdown_step(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left > 0:
            self.countdownChanged.emit(self._countdown_left)
            return
        self._countdown_timer.stop()
        self.countdownChanged.emit(0)
        self._begin_take()

    def _begin_take(self) -> None:
        capture = self.capture
        if capture is None:
            self._set_state(State.CLOSED)
            return
        self._set_state(State.STARTING)
        run_in_background(capture.start_take, max_seconds=self.max_seconds, **self.take_options, owner=self,
                          pool=self._camera_pool, on_done=self._take_started, on_error=self._take_failed)

    def _take_started(self, _writer) -> None:  # noqa: ANN001
        if self.state is not State.STARTING:
            return
        self.notice.emit("")
        self._set_state(State.RECORDING)
        from studio.capture.recorder import TakeStats  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        self.elapsed.emit(0.0)
        self.statsChanged.emit(TakeStats())
        if self._stop_when_started:
            self._stop_when_started = False
            self.stop()

    def _take_failed(self, exc: BaseException) -> None:
        self._fail(exc, State.READY if self.capture is not None else State.CLOSED)
        self._close_if_parked()

    def stop(self) -> None:
        """Stop the take under way (a countdown is cancelled); the take is finished in the background."""
        if self.state is State.COUNTDOWN:
            self.cancel_countdown()
            return
        capture = self.capture
        if self.state is not State.RECORDING or capture is None:
            return
        self._set_state(State.STOPPING)
        run_in_background(capture.stop_take, hold=True, owner=self, pool=self._camera_pool,
                          on_done=self._add_take, on_error=self._take_failed)

    def _add_take(self, take: Take) -> None:
        from studio.capture.recorder import STOP_MESSAGES  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        if self.state is State.STOPPING:
            self._set_state(State.READY if self.capture is not None else State.CLOSED)
        self.takes.append(take)
        message = STOP_MESSAGES.get(take.stop_reason, "")
        if not take.has_audio:
            message = (message + " This take has no sound.").strip()
        self.notice.emit(message)
        self.elapsed.emit(0.0)
        self.takesChanged.emit(list(self.takes))
        self._close_if_parked()

    def _close_if_parked(self) -> None:
        if self._parked and not self.state.recording:
            self.close()

    def poll(self) -> None:
        """Follow the take (elapsed, counters, a stop by itself) and the source; runs on a timer."""
        capture = self.capture
        if self.player is not None and self.player.finished.is_set():
            self.stop_review()
        if capture is None:
            return
        writer = capture.writer
        if self.state is State.RECORDING and writer is not None:
            self.elapsed.emit(writer.stats.written / writer.fps)
            self.statsChanged.emit(writer.stats)
            if writer.done.is_set():
                self.stop()
        elif self.state is State.READY and capture.ended.is_set() and not self._ended_told:
            self._ended_told = True
            self.notice.emit("The source stopped delivering pictures. Choose a source to start again.")

    # -- the takes -----------------------------------------------------------------------------
    @property
    def can_decide(self) -> bool:
        return bool(self.takes) and self.state in IDLE

    def delete_take(self, index: int) -> Take | None:
        """Take ``index`` out of the list; its files go when the undo window closes (or the session ends)."""
        if not 0 <= index < len(self.takes) or self.state not in IDLE:
            return None
        if self.reviewing == index:
            self.stop_review()
        take = self.takes.pop(index)
        self._deleted.append((index, take))
        self._undo_timer.start()
        self.takesChanged.emit(list(self.takes))
        self.deletedChanged.emit(len(self._deleted))
        return take

    def undo_delete(self) -> Take | None:
        """Put the last deleted take back where it was."""
        if not self._deleted:
            return None
        index, take = self._deleted.pop()
        self.takes.insert(min(index, len(self.takes)), take)
        if not self._deleted:
            self._undo_timer.stop()
        self.takesChanged.emit(list(self.takes))
        self.deletedChanged.emit(len(self._deleted))
        return take

    def purge_deleted(self) -> None:
        """The undo window closed: delete the files of the deleted takes (in the background)."""
        doomed, self._deleted = [t for _i, t in self._deleted], []
        self._undo_timer.stop()
        if doomed:
            from studio.capture import decision  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

            run_in_background(decision.discard, doomed, owner=self, pool=self._work_pool,
                              on_error=lambda e: log.warning("deleting takes: %s", e))
            self.deletedChanged.emit(0)

    def rerecord(self, index: int) -> None:
        """Delete take ``index`` (undoable) and record it again."""
        if self.state is State.READY:
            self.delete_take(index)
            self.start()

    def discard_all(self) -> None:
        if not self.takes or self.state not in IDLE:
            return
        from studio.capture import decision  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        self.stop_review()
        doomed, self.takes = self.takes, []
        run_in_background(decision.discard, doomed, owner=self, pool=self._work_pool,
                          on_error=lambda e: log.warning("discarding takes: %s", e))
        self.notice.emit("Takes discarded.")
        self.takesChanged.emit([])

    def save(self, then: str = "draft", *, title: str | None = None) -> None:
        """Save every take into one draft; ``then`` ("draft", "edit", "post") travels with ``saved``."""
        if not self.takes or self.state not in IDLE:
            return
        self.stop_review()
        idle = self.state
        self._set_state(State.SAVING)
        self.notice.emit("Saving…")
        saving = list(self.takes)
        from studio.capture import decision  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        run_in_background(decision.save_as_draft, self.studio, saving, title=title, owner=self,
                          pool=self._work_pool, on_done=lambda draft: self._saved(draft, saving, then, idle),
                          on_error=lambda e: self._save_failed(e, idle))

    def _back_from_saving(self, idle: State) -> None:
        self._set_state(State.READY if self.capture is not None else State.CLOSED)
        pending, self._pending_open = self._pending_open, None
        if pending is not None:
            self.open(pending[0], size=pending[1], fps=pending[2], audio=pending[3], microphone=pending[4])

    def _saved(self, draft, saving: list[Take], then: str, idle: State) -> None:  # noqa: ANN001 - Draft
        self.takes = [t for t in self.takes if t not in saving]
        self._back_from_saving(idle)
        self.notice.emit(f"Saved as draft “{draft.title}”.")
        self.takesChanged.emit(list(self.takes))
        self.saved.emit(draft, then)

    def _save_failed(self, exc: BaseException, idle: State) -> None:
        self._back_from_saving(idle)
        self.notice.emit(f"The takes could not be saved: {user_message(exc)} They are kept; try again.")
        self.error.emit(exc)

    def keep_takes(self) -> list[Take]:
        """Leave the takes in cache/takes unsaved (recovery offers them later); the list empties."""
        kept, self.takes = self.takes, []
        for take in kept:
            take.release()
        self.takesChanged.emit([])
        return kept

    # -- review --------------------------------------------------------------------------------
    def review(self, index: int) -> bool:
        """Play take ``index`` in the preview (only when not recording). False if it cannot be."""
        if not 0 <= index < len(self.takes) or self.state not in IDLE:
            return False
        from studio.capture.review import TakePlayer  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        self.stop_review()
        take = self.takes[index]
        self.player = TakePlayer(take.media, height=self.preview_height)
        self.player.start()
        self._play_sound(take)
        self.reviewing = index
        self.reviewChanged.emit(index)
        if self.capture is None:
            self._poll_timer.start()
        return True

    def _play_sound(self, take: Take) -> None:
        """The take's own sound with its picture, where there is an output device to play it."""
        from studio.media.sound import AudioFeed, pcm_argv  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

        if not take.has_audio:
            return
        if self.sound is None:
            self.sound = AudioFeed(self)
        try:
            playing = self.sound.start(pcm_argv(take.media))
        except OSError as e:   # ffmpeg could not start: the picture plays on
            log.warning("take review sound: %s", e)
            playing = False
        if not playing and not self._told_silent:
            self._told_silent = True
            self.notice.emit("Takes play without sound here: this computer has no sound output.")

    def stop_review(self) -> None:
        player, self.player = self.player, None
        if player is None:
            return
        if self.sound is not None:
            self.sound.stop()
        player.stop()
        self.reviewing = -1
        if player.error is not None:
            self.notice.emit(f"The take cannot be played: {user_message(player.error)}")
        self.reviewChanged.emit(-1)
        if self.capture is None:
            self._poll_timer.stop()

    # -- recovered takes -----------------------------------------------------------------------
    def look_for_recovered(self) -> None:
        """Ask the draft store's recovery report for unsaved takes of an earlier session."""
        def find() -> list[dict]:
            report = self.studio.drafts.last_recovery or {}
            own = {t.id for t in self.takes}
            return [t for t in report.get("unsaved_takes") or []
                    if t.get("id") not in own and Path(t["dir"]).is_dir()]

        run_in_background(find, owner=self, pool=self._work_pool, on_done=self.recoveredFound.emit,
                          on_error=lambda e: log.info("no recovery report: %s", e))

    def adopt_recovered(self, unsaved: list[dict]) -> None:
        """Add recovered takes to the list (to review, save or delete like any other); ``notice`` says
        how many (their manifests are read in the background)."""
        def read() -> list[Take]:
            from studio.capture.recorder import Take  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)
            from studio.media.probe import MediaError  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

            found = []
            for u in unsaved:
                try:
                    take = Take.from_folder(Path(u["dir"]))
                except (MediaError, OSError) as e:
                    log.warning("recovered take %s cannot be read: %s", u.get("id"), e)
                    continue
                if take is not None:
                    found.append(take)
            return found

        run_in_background(read, owner=self, pool=self._work_pool, on_done=self._adopt,
                          on_error=lambda e: self._fail(e, self.state))

    def _adopt(self, found: list[Take]) -> None:
        known = {t.id for t in self.takes}
        adopted = [t for t in found if t.id not in known]
        if adopted:
            self.takes.extend(adopted)
            self.takesChanged.emit(list(self.takes))
        n = len(adopted)
        self.notice.emit(f"{n} recovered take{'s' if n != 1 else ''} added: play, save or delete them like any "
                         "other." if n else "Those takes are gone (saved or discarded meanwhile).")

    def discard_recovered(self, unsaved: list[dict]) -> None:
        def discard_all() -> None:
            for u in unsaved:
                self.studio.drafts.discard_take(Path(u["dir"]))

        run_in_background(discard_all, owner=self, pool=self._work_pool,
                          on_error=lambda e: self._fail(e, self.state))

    # -- quitting ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """The app is quitting: finish any take (kept in cache/takes, offered back on the next start),
        delete the takes deleted under an undo window, release the camera. Blocking, by necessity."""
        self._poll_timer.stop()
        self._countdown_timer.stop()
        self._undo_timer.stop()
        self.stop_review()
        self._camera_pool.waitForDone()
        opened, self._opened_in_background = self._opened_in_background, []
        for orphan in opened:
            if orphan is not self.capture:
                orphan.close()
        capture, self.capture = self.capture, None
        if capture is not None:
            from studio.capture.sources import CaptureError  # noqa: PLC0415 - off the first paint; loaded with the capture it opened

            try:
                if capture.recording:
                    self.takes.append(capture.stop_take(hold=True))
                capture.close()
            except CaptureError as e:
                log.warning("finishing the take at quit: %s", e)
            except Exception:  # noqa: BLE001 - quitting anyway; recovery offers what is on disk
                log.exception("closing the camera at quit")
        doomed, self._deleted = [t for _i, t in self._deleted], []
        try:
            if doomed:   # takes exist: the recorder and their files' module are loaded already
                from studio.capture import decision  # noqa: PLC0415 - off the window's first paint (NumPy, SQLAlchemy)

                decision.discard(doomed)
        except OSError as e:
            log.warning("deleting takes at quit: %s", e)
        for take in self.takes:
            take.release()
        self.state = State.CLOSED
