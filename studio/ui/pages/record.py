"""The Record page: source, preview with a 9:16 guide, countdown, takes, and the decision after stop.

A thin client of studio.capture: the camera opens and closes, takes start and stop, and drafts are
saved in the background (studio.tasks); the UI thread only reads the preview mailbox on a timer.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

from PySide6.QtCore import QCoreApplication, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from studio.tasks import run_in_background
from studio.ui.common import NotBuiltPage, page_header
from studio.ui.dialogs import SettingsDialog, settings
from studio.ui.record_preview import PreviewView, frame_to_image

log = logging.getLogger(__name__)

SIZES = [(640, 360), (1280, 720), (1920, 1080)]
DEFAULT_SIZE = (1280, 720)


def _page_is_built(module: str, cls: str) -> bool:
    """False while the page is still the "not built yet" placeholder."""
    try:
        if importlib.util.find_spec(module) is None:
            return False
        page = getattr(importlib.import_module(module), cls, None)
    except Exception:  # noqa: BLE001 - a page that fails to import is not available
        return False
    return page is not None and not issubclass(page, NotBuiltPage)


def edit_blocker() -> str | None:
    if not _page_is_built("studio.ui.pages.editor", "EditorPage"):
        return "The editor is not in this build yet: Edit would only save the draft."
    return None


def post_missing() -> list[str]:
    """What Post still lacks in this build (export, the upload queue); empty when it can post."""
    missing = []
    try:
        has_export = importlib.util.find_spec("studio.editor.export") is not None
    except ModuleNotFoundError:
        has_export = False
    if not has_export:
        missing.append("export")
    if not _page_is_built("studio.ui.pages.uploads", "UploadsPage"):
        missing.append("uploads")
    return missing


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


class RecordPage(QWidget):
    navigate = Signal(str, object)
    takesChanged = Signal(int)
    stateChanged = Signal(str)
    saved = Signal(str)          # draft id

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.store = settings(studio.layout)
        self.session = None
        self.takes: list = []
        self.state = "closed"     # closed, opening, ready, countdown, starting, recording, stopping, saving
        self._seq = -1
        self._countdown_left = 0
        self._choices_loaded = False
        self._pending_open: tuple[str, tuple[int, int]] | None = None
        self._last_frame = None
        self._opened_in_background: list = []
        self._edit_missing: str | None = None
        self._post_missing: list[str] | None = None
        # One worker for the camera: open, start, stop and close run in order, never at the same time.
        self._camera_pool = QThreadPool(self)
        self._camera_pool.setMaxThreadCount(1)
        self._build()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        # What this build lacks for Edit / Post does not change while it runs; importing the other
        # pages to find out is slow enough to keep off the UI thread.
        run_in_background(lambda: (edit_blocker(), post_missing()), on_done=self._set_build_check,
                          on_error=lambda e: log.warning("checking for editor/uploads: %s", e))
        self._preview_timer = QTimer(self, interval=33, timeout=self._tick)
        self._countdown_timer = QTimer(self, interval=1000, timeout=self._countdown_step)

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 28, 32, 20)
        outer.addWidget(page_header("Record", "Record one or more takes; keep the action inside the 9:16 guide."))
        body = QHBoxLayout()
        outer.addLayout(body, 1)
        self.preview = PreviewView()
        self.preview.set_message("Opening the camera…")
        body.addWidget(self.preview, 1)

        side = QVBoxLayout()
        body.addLayout(side)
        form = QFormLayout()
        self.source_box = QComboBox(objectName="RecordSource")
        self.source_box.addItem("Test pattern (synthetic)", "synthetic")
        self.source_box.activated.connect(lambda _i: self.reopen())
        self.size_box = QComboBox(objectName="RecordSize")
        for w, h in SIZES:
            self.size_box.addItem(f"{w}×{h}", (w, h))
        self.size_box.setCurrentIndex(SIZES.index(DEFAULT_SIZE))
        self.size_box.activated.connect(lambda _i: self.reopen())
        self.length_box = QComboBox(objectName="RecordMaxLength")
        for s in SettingsDialog.MAX_TAKE_CHOICES:
            self.length_box.addItem(f"{s} s" if s < 60 or s % 60 else f"{s // 60} min", s)
        current = int(self.store.value("record/max_seconds", 60))
        self.length_box.setCurrentIndex(max(0, self.length_box.findData(current)))
        self.length_box.activated.connect(self._remember_length)
        refresh = QPushButton("Refresh", clicked=self.load_choices)
        src_row = QHBoxLayout()
        src_row.addWidget(self.source_box, 1)
        src_row.addWidget(refresh)
        form.addRow("Source", src_row)
        form.addRow("Resolution", self.size_box)
        form.addRow("Max length", self.length_box)
        side.addLayout(form)

        self.notice = QLabel("", objectName="RecordNotice", wordWrap=True)
        self.notice.setMaximumWidth(320)
        side.addWidget(self.notice)
        self.sound_label = QLabel("", objectName="RecordSound", wordWrap=True)
        self.sound_label.setProperty("class", "muted")
        side.addWidget(self.sound_label)

        self.record_button = QPushButton("Record", objectName="RecordButton", clicked=self.toggle_record)
        self.record_button.setProperty("accent", True)
        self.record_button.setToolTip("Start or stop a take (Space or R)")
        self.record_button.setMinimumHeight(44)
        side.addWidget(self.record_button)
        self.timer_label = QLabel("00:00 / 01:00", objectName="RecordTimer")
        self.counters = QLabel("Dropped 0 · Late 0", objectName="RecordCounters")
        self.counters.setProperty("class", "muted")
        self.disk_label = QLabel("", objectName="RecordDisk")
        self.disk_label.setProperty("class", "muted")
        for w in (self.timer_label, self.counters, self.disk_label):
            side.addWidget(w)
        side.addStretch(1)

        side.addWidget(QLabel("Takes"))
        self.strip = QListWidget(objectName="TakeStrip")
        self.strip.setViewMode(QListWidget.IconMode)
        self.strip.setFlow(QListWidget.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(96, 54))
        self.strip.setFixedHeight(110)
        self.strip.setMaximumWidth(320)
        side.addWidget(self.strip)
        strip_row = QHBoxLayout()
        self.delete_button = QPushButton("Delete take", clicked=self.delete_selected_take)
        self.rerecord_button = QPushButton("Re-record", clicked=self.rerecord)
        self.rerecord_button.setToolTip("Delete the selected (or last) take and record it again")
        strip_row.addWidget(self.delete_button)
        strip_row.addWidget(self.rerecord_button)
        side.addLayout(strip_row)

        decide = QHBoxLayout()
        self.discard_button = QPushButton("Discard", objectName="DiscardButton", clicked=self.discard_all)
        self.save_button = QPushButton("Save as draft", objectName="SaveButton", clicked=lambda: self.save("draft"))
        self.edit_button = QPushButton("Edit", objectName="EditButton", clicked=lambda: self.save("edit"))
        self.post_button = QPushButton("Post", objectName="PostButton", clicked=lambda: self.save("post"))
        for b in (self.discard_button, self.save_button, self.edit_button, self.post_button):
            decide.addWidget(b)
        self.save_button.setProperty("accent", True)
        outer.addLayout(decide)

        for key in (Qt.Key_Space, Qt.Key_R):
            sc = QShortcut(QKeySequence(key), self, activated=self.toggle_record)
            sc.setContext(Qt.WidgetWithChildrenShortcut)
        self._refresh_controls()

    # -- page lifecycle ------------------------------------------------------------------------
    def activated(self, _payload: object = None) -> None:
        self._ensure_open()

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().showEvent(event)
        self._ensure_open()

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().hideEvent(event)
        self._countdown_timer.stop()
        self.preview.set_countdown(None)
        self._preview_timer.stop()
        session, self.session = self.session, None
        if session is not None:
            was_recording = session.recording
            self._set_state("closed")
            # Leaving the page mid-take keeps the take; the camera is released off the UI thread.
            run_in_background(self._close_session, session, pool=self._camera_pool,
                              on_done=self._add_take if was_recording else None,
                              on_error=lambda e: log.warning("closing the camera: %s", e))

    def shutdown(self) -> None:
        """The app is quitting: finish any take (it stays in cache/takes, offered back on the next
        start) and release the camera before Qt tears the threads down. Blocking, by necessity."""
        self._preview_timer.stop()
        self._countdown_timer.stop()
        self._camera_pool.waitForDone()
        # A camera opened in the background whose hand-over never arrived (the loop has stopped).
        opened, self._opened_in_background = self._opened_in_background, []
        for orphan in opened:
            if orphan is not self.session:
                orphan.close()
        session, self.session = self.session, None
        if session is not None:
            try:
                take = self._close_session(session)
                if take is not None:
                    take.release()
            except Exception:  # noqa: BLE001 - quitting anyway; recovery offers what is on disk
                log.exception("closing the camera at quit")
        for take in self.takes:
            take.release()

    @staticmethod
    def _close_session(session):  # noqa: ANN001, ANN205
        take = session.stop_take(hold=True) if session.recording else None
        session.close()
        return take

    def _ensure_open(self) -> None:
        if not self._choices_loaded:
            self.load_choices()
        if self.session is None and self.state == "closed" and self.isVisible():
            self.reopen()

    def load_choices(self) -> None:
        from studio.capture.sources import source_choices

        self._choices_loaded = True
        run_in_background(source_choices, on_done=self._show_choices,
                          on_error=lambda e: self.notice.setText(f"Cameras could not be listed: {e}"))

    def _show_choices(self, result) -> None:  # noqa: ANN001
        choices, notice = result
        current = self.source_box.currentData()
        self.source_box.clear()
        for c in choices:
            self.source_box.addItem(c.name, c.id)
        # Cameras first: a creator with a webcam wants it; without one, the test pattern is offered.
        index = self.source_box.findData(current) if current != "synthetic" else 0
        self.source_box.setCurrentIndex(max(0, index))
        self.no_camera_notice = notice
        self.notice.setText(notice or "")
        if self.source_box.currentData() != current and self.state in ("ready", "closed"):
            self.reopen()

    def reopen(self) -> None:
        """(Re)open the chosen source at the chosen size, off the UI thread."""
        if self.state in ("countdown", "starting", "recording", "stopping"):
            return
        spec, size = self.source_box.currentData() or "synthetic", self.size_box.currentData()
        if self.state == "opening":
            self._pending_open = (spec, size)
            return
        old, self.session = self.session, None
        self._preview_timer.stop()
        self._set_state("opening")
        self.preview.set_image(None)
        self.preview.set_message("Opening the camera…" if spec.startswith("camera")
                                 else "Starting the test pattern…")
        from studio.capture.audio import default_microphone

        # Qt Multimedia's device list belongs to this thread; the test pattern has its own sound.
        mic = None if spec == "synthetic" else default_microphone()
        run_in_background(self._open_session, self.studio.layout, spec, size, old, mic, self._opened_in_background,
                          pool=self._camera_pool,
                          on_done=self._opened, on_error=self._open_failed)

    @staticmethod
    def _open_session(layout, spec: str, size, old, mic, registry: list):  # noqa: ANN001, ANN205
        import shutil

        from studio.capture.recorder import CaptureSession
        from studio.capture.sources import make_source

        if old is not None:
            old.close()
        session = CaptureSession(layout, make_source(spec, size=size), preview_height=540, microphone=mic)
        session.open()
        registry[:] = [session]
        return session, shutil.disk_usage(layout.cache).free

    def _opened(self, result) -> None:  # noqa: ANN001
        session, free = result
        if not self.isVisible() or self._pending_open is not None:
            pending, self._pending_open = self._pending_open, None
            self._set_state("closed")
            run_in_background(session.close, pool=self._camera_pool)
            if pending is not None and self.isVisible():
                self.reopen()
            return
        self.session = session
        self._seq = -1
        self.sound_label.setText(session.audio_note)
        self.disk_label.setText(f"{free / 2**30:.1f} GB free for takes")
        self.preview.set_message("")
        self._set_state("ready")
        self._preview_timer.start()

    def _open_failed(self, error: BaseException) -> None:
        self._pending_open = None
        self._set_state("closed")
        message = getattr(error, "user_message", None) or str(error)
        self.preview.set_message(message)
        synthetic = self.source_box.findData("synthetic")
        self.notice.setText(f"{message}\nThe test pattern is available in the Source list." if synthetic >= 0
                            else message)

    # -- preview, timer, counters --------------------------------------------------------------
    def _tick(self) -> None:
        session = self.session
        if session is None:
            return
        seq, frame, _ts = session.mailbox.latest()
        if frame is not None and seq != self._seq:
            self._seq = seq
            self._last_frame = frame
            self.preview.set_image(frame_to_image(frame))
        writer = session.writer
        if self.state == "recording" and writer is not None:
            elapsed = writer.stats.written / writer.fps
            self.preview.set_recording_time(_clock(elapsed))
            self.timer_label.setText(f"{_clock(elapsed)} / {_clock(self.max_seconds)}")
            s = writer.stats
            self.counters.setText(f"Dropped {s.dropped} · Late {s.late}")
            if writer.done.is_set():
                self.stop_recording()
        elif self.state == "ready" and session.ended.is_set():
            self.notice.setText("The source stopped delivering pictures. Choose a source to start again.")

    @property
    def max_seconds(self) -> int:
        return int(self.length_box.currentData() or 60)

    def _remember_length(self) -> None:
        self.store.setValue("record/max_seconds", self.max_seconds)
        self.timer_label.setText(f"00:00 / {_clock(self.max_seconds)}")

    # -- record / stop -------------------------------------------------------------------------
    def toggle_record(self) -> None:
        if self.state == "ready":
            self.start_countdown()
        elif self.state == "countdown":
            self._countdown_timer.stop()
            self.preview.set_countdown(None)
            self._set_state("ready")
        elif self.state == "recording":
            self.stop_recording()

    def start_countdown(self) -> None:
        self._countdown_left = int(self.store.value("record/countdown", 3))
        self._set_state("countdown")
        if self._countdown_left <= 0:
            self._begin_take()
            return
        self.preview.set_countdown(self._countdown_left)
        self._countdown_timer.start()

    def _countdown_step(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left > 0:
            self.preview.set_countdown(self._countdown_left)
            return
        self._countdown_timer.stop()
        self.preview.set_countdown(None)
        self._begin_take()

    def _begin_take(self) -> None:
        session = self.session
        if session is None:
            self._set_state("closed")
            return
        self._set_state("starting")
        run_in_background(session.start_take, max_seconds=self.max_seconds, pool=self._camera_pool,
                          on_done=self._take_started, on_error=self._take_failed)

    def _take_started(self, _writer) -> None:  # noqa: ANN001
        if self.state != "starting":
            return
        self.notice.setText("")
        self.counters.setText("Dropped 0 · Late 0")
        self.preview.set_recording_time("00:00")
        self._set_state("recording")

    def _take_failed(self, error: BaseException) -> None:
        self._set_state("ready" if self.session is not None else "closed")
        self.notice.setText(getattr(error, "user_message", None) or str(error))

    def stop_recording(self) -> None:
        session = self.session
        if self.state != "recording" or session is None:
            return
        self._set_state("stopping")
        self.preview.set_recording_time(None)
        run_in_background(session.stop_take, hold=True, pool=self._camera_pool, on_done=self._add_take,
                          on_error=self._take_failed)

    def _add_take(self, take) -> None:  # noqa: ANN001
        from studio.capture.recorder import STOP_MESSAGES

        if self.state == "stopping":
            self._set_state("ready")
        if take is None:
            return
        self.takes.append(take)
        item = QListWidgetItem(f"{len(self.takes)} · {take.duration_us / 1e6:.1f} s")
        item.setData(Qt.UserRole, take.id)
        if self._last_frame is not None:
            item.setIcon(QIcon(QPixmap.fromImage(frame_to_image(self._last_frame).scaled(
                96, 54, Qt.KeepAspectRatio, Qt.SmoothTransformation))))
        self.strip.addItem(item)
        message = STOP_MESSAGES.get(take.stop_reason, "")
        if not take.has_audio:
            message = (message + " This take has no sound.").strip()
        self.notice.setText(message)
        self.timer_label.setText(f"00:00 / {_clock(self.max_seconds)}")
        self.takesChanged.emit(len(self.takes))
        self._refresh_controls()

    # -- the take strip ------------------------------------------------------------------------
    def _selected_index(self) -> int:
        row = self.strip.currentRow()
        return row if 0 <= row < len(self.takes) else len(self.takes) - 1

    def delete_selected_take(self) -> None:
        index = self._selected_index()
        if index < 0 or self.state in ("recording", "stopping", "saving"):
            return
        take = self.takes.pop(index)
        self.strip.takeItem(index)
        for i in range(self.strip.count()):
            item = self.strip.item(i)
            item.setText(f"{i + 1} · {self.takes[i].duration_us / 1e6:.1f} s")
        from studio.capture.decision import discard

        run_in_background(discard, [take])
        self.takesChanged.emit(len(self.takes))
        self._refresh_controls()

    def rerecord(self) -> None:
        if self.state != "ready":
            return
        self.delete_selected_take()
        self.start_countdown()

    # -- the decision --------------------------------------------------------------------------
    def discard_all(self) -> None:
        if not self.takes or self.state in ("recording", "stopping", "saving"):
            return
        if self.store.value("record/confirm_discard", True, type=bool):
            box = QMessageBox(QMessageBox.Question, "Discard takes",
                              f"Delete {len(self.takes)} take(s)? This cannot be undone.",
                              QMessageBox.Discard | QMessageBox.Cancel, self)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.finished.connect(lambda code: self._discard_now() if code == QMessageBox.Discard else None)
            box.open()
            return
        self._discard_now()

    def _discard_now(self) -> None:
        from studio.capture.decision import discard

        doomed, self.takes = self.takes, []
        self.strip.clear()
        run_in_background(discard, doomed)
        self.notice.setText("Takes discarded.")
        self.takesChanged.emit(0)
        self._refresh_controls()

    def save(self, then: str = "draft") -> None:
        """Save every take into one draft; ``then`` = "draft", "edit" (open the editor) or "post"."""
        if not self.takes or self.state not in ("ready", "closed"):
            return
        if then == "post" and self._post_missing:
            needs = " and ".join(self._post_missing)
            self.notice.setText(f"Posting needs {needs}, which this build does not have yet.")
            return
        from studio.capture.decision import save_as_draft

        self._set_state("saving")
        self.notice.setText("Saving…")
        saving = list(self.takes)
        run_in_background(save_as_draft, self.studio, saving,
                          on_done=lambda draft: self._saved(draft, saving, then),
                          on_error=self._save_failed)

    def _saved(self, draft, saving: list, then: str) -> None:  # noqa: ANN001
        self.takes = [t for t in self.takes if t not in saving]
        self.strip.clear()
        self._set_state("ready" if self.session is not None else "closed")
        self.notice.setText(f"Saved as draft “{draft.title}”.")
        self.takesChanged.emit(len(self.takes))
        self._refresh_controls()
        self.saved.emit(draft.id)
        if then == "edit" and self._edit_missing is None:
            self.navigate.emit("editor", draft.id)
        elif then == "post":
            self.navigate.emit("uploads", {"draft_id": draft.id})

    def _save_failed(self, error: BaseException) -> None:
        self._set_state("ready" if self.session is not None else "closed")
        reason = getattr(error, "user_message", None) or str(error)
        self.notice.setText(f"The takes could not be saved: {reason} They are kept; try again.")

    # -- controls ------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        self._refresh_controls()
        self.stateChanged.emit(state)

    def _set_build_check(self, result: tuple) -> None:
        self._edit_missing, self._post_missing = result
        self._refresh_controls()

    def _refresh_controls(self) -> None:
        state, has_takes = self.state, bool(self.takes)
        labels = {"countdown": "Cancel", "starting": "Starting…", "recording": "Stop", "stopping": "Finishing…"}
        self.record_button.setText(labels.get(state, "Record"))
        self.record_button.setEnabled(state in ("ready", "countdown", "recording"))
        locked = state in ("countdown", "starting", "recording", "stopping", "saving", "opening")
        for w in (self.source_box, self.size_box, self.length_box):
            w.setEnabled(not locked)
        idle_with_takes = has_takes and not locked
        for b in (self.discard_button, self.save_button, self.delete_button):
            b.setEnabled(idle_with_takes)
        if self.save_button.property("accent") != idle_with_takes:
            # The accent gradient would make a disabled button look clickable.
            self.save_button.setProperty("accent", idle_with_takes)
            self.save_button.style().unpolish(self.save_button)
            self.save_button.style().polish(self.save_button)
        self.rerecord_button.setEnabled(idle_with_takes and state == "ready")
        if self._post_missing is None:   # still being checked (see _set_build_check)
            self.edit_button.setEnabled(False)
            self.post_button.setEnabled(False)
            return
        self.edit_button.setEnabled(idle_with_takes)
        self.edit_button.setText("Edit" if self._edit_missing is None else "Edit (needs the editor)")
        self.edit_button.setToolTip(self._edit_missing or "Save the takes as a draft and open it in the editor")
        self.post_button.setEnabled(idle_with_takes and not self._post_missing)
        needs = " and ".join(self._post_missing)
        self.post_button.setText(f"Post (needs {needs})" if needs else "Post")
        self.post_button.setToolTip(f"Posting needs {needs}, which this build does not have yet." if needs
                                    else "Save, then export and upload")
