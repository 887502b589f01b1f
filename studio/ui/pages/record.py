"""The Record page: widgets and wiring around a RecordingSession (studio.capture.session).

The session owns the workflow (source, countdown, takes, save/discard/post) and keeps recording
when the page is not shown; the page renders its signals and turns clicks and keys into one
session call each. The UI thread only reads the preview mailbox on a timer.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6 import QtCore
from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QAbstractButton, QApplication, QComboBox, QFormLayout, QHBoxLayout,
                               QLabel, QListWidget, QListWidgetItem, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from studio.capture.session import IDLE, RecordingSession, State, clock_text
from studio.tasks import run_in_background
from studio.ui.common import Banner, after_first_paint, page_header
from studio.ui.firstframe import USER_ROLE, set_enum
from studio.ui.prefs import MAX_TAKE_CHOICES, settings
from studio.ui.record_preview import PreviewView, frame_to_image

log = logging.getLogger(__name__)

SIZES = [(640, 360), (1280, 720), (1920, 1080)]
DEFAULT_SIZE = (1280, 720)
PICK_FILE = "file-pick"
NO_SOUND = "none"
VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.mkv *.webm *.avi);;All files (*)"
BUTTON_LABELS = {State.COUNTDOWN: "Cancel", State.STARTING: "Starting…", State.RECORDING: "Stop",
                 State.STOPPING: "Finishing…"}


class RecordPage(QWidget):
    navigate = Signal(str, object)
    badgeChanged = Signal(str)     # "● REC 00:03" while a take is under way (shown by the window), else ""

    def __init__(self, studio, parent: QWidget | None = None, *, session: RecordingSession | None = None):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self.store = settings(studio.layout)
        self.session = session or RecordingSession(studio, parent=self)
        self._seq = -1
        self._last_frame = None
        self._choices_loaded = False
        self._recovered: list[dict] = []
        set_enum(self, "focusPolicy", "ClickFocus")   # built for the first frame: no Qt namespace (firstframe.py)
        self._build()
        self._wire()
        self._preview_timer = QTimer(self, interval=33, timeout=self._tick)
        self._render_state(self.session.state)
        # The page paints first (it may be the app's first frame); the devices, the camera and the
        # draft store's recovery report (the database) come right after that paint.
        self._on_screen = False
        after_first_paint(self, self._first_painted)

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 16)
        outer.addWidget(page_header("Record", "Record one or more takes; keep the action inside the 9:16 guide."))
        self.recovered_bar = Banner("RecoveredTakesBanner")
        self.undo_bar = Banner("UndoBanner")
        self.undo_bar.dismissed.connect(lambda: self.session.purge_deleted())   # closing the undo window
        outer.addWidget(self.recovered_bar)
        outer.addWidget(self.undo_bar)

        body = QHBoxLayout()
        outer.addLayout(body, 1)
        self.preview = PreviewView()
        self.preview.set_message("Opening the camera…")
        body.addWidget(self.preview, 1)
        side_box = QWidget(objectName="RecordSide")
        side_box.setFixedWidth(300)
        side = QVBoxLayout(side_box)
        side.setContentsMargins(0, 0, 0, 0)
        body.addWidget(side_box)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.source_box = QComboBox(objectName="RecordSource")
        self.source_box.addItem("Test pattern", "synthetic")
        self.source_box.activated.connect(self._source_chosen)
        # a camera's name can be longer than the side panel is wide: the whole name in the tooltip
        self.source_box.currentTextChanged.connect(self.source_box.setToolTip)
        self.mic_box = QComboBox(objectName="RecordMicrophone")
        self.mic_box.activated.connect(lambda _i: self.reopen())
        self.size_box = QComboBox(objectName="RecordSize")
        for w, h in SIZES:
            self.size_box.addItem(f"{w}×{h}", (w, h))
        self.size_box.setCurrentIndex(SIZES.index(DEFAULT_SIZE))
        self.size_box.activated.connect(lambda _i: self.reopen())
        self.length_box = QComboBox(objectName="RecordMaxLength")
        for s in MAX_TAKE_CHOICES:
            self.length_box.addItem(f"{s} s" if s < 60 or s % 60 else f"{s // 60} min", s)
        current = int(self.store.value("record/max_seconds", 60))
        self.length_box.setCurrentIndex(max(0, self.length_box.findData(current)))
        self.length_box.activated.connect(self._remember_length)
        for box in (self.source_box, self.mic_box, self.size_box, self.length_box):
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            box.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.refresh_button = QPushButton("Refresh", clicked=self.load_choices)
        self.refresh_button.setToolTip("Look for cameras and microphones again")
        src_row = QHBoxLayout()
        src_row.addWidget(self.source_box, 1)
        src_row.addWidget(self.refresh_button)
        form.addRow("Source", src_row)
        form.addRow("Sound", self.mic_box)
        form.addRow("Resolution", self.size_box)
        form.addRow("Max length", self.length_box)
        side.addLayout(form)

        self.notice = QLabel("", objectName="RecordNotice", wordWrap=True)
        side.addWidget(self.notice)
        self.sound_label = QLabel("", objectName="RecordSound", wordWrap=True)
        self.sound_label.setProperty("class", "muted")
        side.addWidget(self.sound_label)
        self.record_button = QPushButton("Record", objectName="RecordButton", clicked=self.toggle_record)
        self.record_button.setProperty("accent", True)
        self.record_button.setToolTip("Start or stop a take (Space or R)")
        self.record_button.setMinimumHeight(44)
        side.addWidget(self.record_button)
        self.timer_label = QLabel("", objectName="RecordTimer")
        self.counters = QLabel("Dropped 0 · Late 0", objectName="RecordCounters")
        self.counters.setProperty("class", "muted")
        self.disk_label = QLabel("", objectName="RecordDisk")
        self.disk_label.setProperty("class", "muted")
        for w in (self.timer_label, self.counters, self.disk_label):
            side.addWidget(w)
        side.addStretch(1)

        self.strip = QListWidget(objectName="TakeStrip")
        self.strip.setViewMode(QListWidget.IconMode)
        self.strip.setFlow(QListWidget.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(80, 45))
        self.strip.setFixedHeight(84)
        set_enum(self.strip, "horizontalScrollBarPolicy", "ScrollBarAsNeeded")
        self.strip.setToolTip("Your takes, in order. Double-click (or P) to play one.")
        self.strip.itemDoubleClicked.connect(lambda _item: self.play_selected_take())
        self.strip.currentRowChanged.connect(lambda _r: self._refresh_controls())
        outer.addWidget(self.strip)

        row = QHBoxLayout()
        self.play_button = QPushButton("Play take", objectName="PlayTakeButton", clicked=self.play_selected_take)
        self.play_button.setToolTip("Play the selected (or last) take in the preview (P)")
        self.delete_button = QPushButton("Delete take", objectName="DeleteTakeButton",
                                         clicked=self.delete_selected_take)
        self.delete_button.setToolTip("Delete the selected (or last) take; Undo brings it back (Delete)")
        self.rerecord_button = QPushButton("Re-record", clicked=self.rerecord)
        self.rerecord_button.setToolTip("Delete the selected (or last) take and record it again")
        self.discard_button = QPushButton("Discard", objectName="DiscardButton", clicked=self.discard_all)
        self.save_button = QPushButton("Save as draft", objectName="SaveButton", clicked=lambda: self.save("draft"))
        self.save_button.setToolTip("Save every take into one draft (Ctrl+S)")
        self.edit_button = QPushButton("Edit", objectName="EditButton", clicked=lambda: self.save("edit"))
        self.edit_button.setToolTip("Save the takes as a draft and open it in the editor")
        self.post_button = QPushButton("Post", objectName="PostButton", clicked=lambda: self.save("post"))
        self.post_button.setToolTip("Save the takes as a draft, then export and upload it")
        for b in (self.play_button, self.delete_button, self.rerecord_button):
            row.addWidget(b)
        row.addStretch(1)
        for b in (self.discard_button, self.save_button, self.edit_button, self.post_button):
            row.addWidget(b)
        outer.addLayout(row)

        # Clicking a button must not give it the keyboard: Space belongs to the record shortcut.
        for b in self.findChildren(QAbstractButton):
            set_enum(b, "focusPolicy", "TabFocus")
        keys = [("Space", self.toggle_record), ("R", self.toggle_record),
                ("P", self.play_selected_take), ("Delete", self.delete_selected_take),
                (QKeySequence.StandardKey.Undo, self.undo_delete), (QKeySequence.StandardKey.Save,
                                                                    lambda: self.save("draft")),
                ("Escape", self._escape)]
        self.shortcuts = []
        for key, slot in keys:
            sc = QShortcut(QKeySequence(key), self, activated=slot)
            set_enum(sc, "context", "WidgetWithChildrenShortcut")
            self.shortcuts.append(sc)

    def _wire(self) -> None:
        s = self.session
        s.stateChanged.connect(self._render_state)
        s.takesChanged.connect(self._show_takes)
        s.elapsed.connect(self._show_elapsed)
        s.statsChanged.connect(lambda st: self.counters.setText(f"Dropped {st.dropped} · Late {st.late}"))
        s.countdownChanged.connect(lambda n: self.preview.set_countdown(n or None))
        s.notice.connect(self.notice.setText)
        s.error.connect(self._show_error)
        s.sourceOpened.connect(self._source_opened)
        s.saved.connect(self._saved)
        s.deletedChanged.connect(self._show_undo)
        s.reviewChanged.connect(self._show_review)
        s.recoveredFound.connect(self._offer_recovered)

    # -- page lifecycle ------------------------------------------------------------------------
    def activated(self, _payload: object = None) -> None:
        self._ensure_open()

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().showEvent(event)
        self._preview_timer.start()
        if self._on_screen:
            self._came_into_view()

    def _first_painted(self) -> None:
        self._on_screen = True
        self.session.look_for_recovered()
        if self.isVisible():
            self._came_into_view()

    def _came_into_view(self) -> None:
        if self.session.unpark():
            self._ensure_open()
        elif not self._choices_loaded:
            self.load_choices()

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().hideEvent(event)
        self._preview_timer.stop()
        # Nobody sees the preview: the camera is released, but only once a take under way has ended.
        self.session.park()

    def shutdown(self) -> None:
        """The app is quitting: the session finishes any take (kept for recovery) and lets the camera go."""
        self._preview_timer.stop()
        self.session.shutdown()

    def _ensure_open(self) -> None:
        if not self._on_screen:   # its first paint opens the source
            return
        if not self._choices_loaded:
            self.load_choices()
        if self.session.state is State.CLOSED and self.isVisible():
            self.reopen()

    # -- sources -------------------------------------------------------------------------------
    def load_choices(self) -> None:
        from studio.capture.sources import source_choices

        self._choices_loaded = True
        self._load_microphones()
        run_in_background(source_choices, owner=self, on_done=self._show_choices,
                          on_error=lambda e: self.notice.setText(f"Cameras could not be listed: {e}"))

    def _load_microphones(self) -> None:
        from studio.capture.devices import list_microphones

        current = self.mic_box.currentData()
        mics, problem = list_microphones()   # Qt Multimedia's list belongs to the UI thread
        self.mic_box.clear()
        # "default": the source's own sound if it has one (the test pattern's tone), else the default mic.
        self.mic_box.addItem("Default microphone" if mics else "No microphone found", "default")
        for m in mics:
            self.mic_box.addItem(m.name, m.id)
        self.mic_box.addItem("No sound", NO_SOUND)
        self.mic_box.setToolTip(problem or ("No microphone was found." if not mics else
                                            "The microphone for camera and video-file takes "
                                            "(the test pattern brings its own tone)"))
        self.mic_box.setCurrentIndex(max(0, self.mic_box.findData(current)))

    def _show_choices(self, result) -> None:  # noqa: ANN001
        choices, notice = result
        current = self.source_box.currentData()
        files = [(self.source_box.itemText(i), self.source_box.itemData(i)) for i in range(self.source_box.count())
                 if str(self.source_box.itemData(i)).startswith("file:")]
        self.source_box.clear()
        for c in choices:
            self.source_box.addItem(c.name, c.id)
        for name, spec in files:
            self.source_box.addItem(name, spec)
        self.source_box.addItem("Video file as camera…", PICK_FILE)
        # Cameras first: a creator with a webcam wants it; without one, the test pattern is offered.
        index = self.source_box.findData(current) if current != "synthetic" else 0
        self.source_box.setCurrentIndex(max(0, index))
        self.notice.setText(notice or "")
        if self.source_box.currentData() != current and self.session.state in IDLE:
            self.reopen()

    def _source_chosen(self, _index: int) -> None:
        if self.source_box.currentData() == PICK_FILE:
            from PySide6.QtWidgets import QFileDialog

            dlg = QFileDialog(self, "Play a video file as the camera", str(Path.home()), VIDEO_FILTER)
            dlg.setFileMode(QFileDialog.ExistingFile)
            dlg.setAttribute(QtCore.Qt.WA_DeleteOnClose)
            dlg.fileSelected.connect(lambda f: self.use_file_as_camera(Path(f)))
            dlg.rejected.connect(lambda: self._select_source(self.session.source_spec or "synthetic"))
            dlg.open()
            return
        self.reopen()

    def use_file_as_camera(self, path: Path) -> None:
        """Record from ``path`` played at its own pace, as if it were a camera."""
        spec = f"file:{path}"
        if self.source_box.findData(spec) < 0:
            self.source_box.insertItem(self.source_box.findData(PICK_FILE), path.name, spec)
        self._select_source(spec)
        self.reopen()

    def _select_source(self, spec: str) -> None:
        self.source_box.setCurrentIndex(max(0, self.source_box.findData(spec)))

    def reopen(self) -> None:
        """(Re)open the chosen source, microphone and size (the session queues it if busy)."""
        from studio.capture.audio import default_microphone, find_microphone

        spec = self.source_box.currentData() or "synthetic"
        if spec == PICK_FILE:
            return
        mic = self.mic_box.currentData() or "default"
        self.preview.set_image(None)
        self.preview.set_message("Opening the camera…" if spec.startswith("camera") else
                                 "Starting the test pattern…" if spec == "synthetic" else "Opening the video…")
        if mic == NO_SOUND:
            audio, device = None, None
        else:
            # Qt Multimedia's devices are looked up here, on the UI thread, and handed to the worker.
            audio = "auto"
            device = default_microphone() if mic == "default" else find_microphone(mic)
        self.session.open(spec, size=self.size_box.currentData(), audio=audio, microphone=device)

    def _source_opened(self, info: dict) -> None:
        self._seq = -1
        self.sound_label.setText(info["audio_note"])
        self.disk_label.setText(f"{info['free_bytes'] / 2**30:.1f} GB free for takes")
        self.preview.set_message("")

    def _show_error(self, error: BaseException) -> None:
        if self.session.state is State.CLOSED and self.session.capture is None:
            message = self.notice.text()
            self.preview.set_message(message)
            if self.source_box.findData("synthetic") >= 0 and "test pattern" not in message:
                self.notice.setText(f"{message}\nThe test pattern is available in the Source list.")

    # -- preview, timer ------------------------------------------------------------------------
    def _tick(self) -> None:
        mailbox = self.session.mailbox()
        if mailbox is None:
            return
        seq, frame, _ts = mailbox.latest()
        if frame is not None and seq != self._seq:
            self._seq = seq
            if self.session.player is None:
                self._last_frame = frame
            self.preview.set_image(frame_to_image(frame))

    @property
    def max_seconds(self) -> int:
        return int(self.length_box.currentData() or 60)

    def _remember_length(self) -> None:
        self.store.setValue("record/max_seconds", self.max_seconds)
        self._show_elapsed(0.0)

    def _show_elapsed(self, seconds: float) -> None:
        recording = self.session.state is State.RECORDING
        self.timer_label.setText(f"{clock_text(seconds)} / {clock_text(self.session.max_seconds if recording else self.max_seconds)}")
        self.preview.set_recording_time(clock_text(seconds) if recording else None)
        self.badgeChanged.emit(f"● REC {clock_text(seconds)}" if recording else "")

    # -- actions (one session call each) -------------------------------------------------------
    def toggle_record(self) -> None:
        if self.session.state is State.READY:
            self.session.countdown_seconds = int(self.store.value("record/countdown", 3))
            self.session.max_seconds = self.max_seconds
        self.session.toggle()

    def _escape(self) -> None:
        if self.session.player is not None:
            self.session.stop_review()
        else:
            self.session.cancel_countdown()

    def _selected_index(self) -> int:
        row = self.strip.currentRow()
        return row if 0 <= row < len(self.session.takes) else len(self.session.takes) - 1

    def play_selected_take(self) -> None:
        index = self._selected_index()
        if self.session.reviewing == index and index >= 0:
            self.session.stop_review()
        else:
            self.session.review(index)

    def delete_selected_take(self) -> None:
        self.session.delete_take(self._selected_index())

    def undo_delete(self) -> None:
        self.session.undo_delete()

    def rerecord(self) -> None:
        self.session.countdown_seconds = int(self.store.value("record/countdown", 3))
        self.session.max_seconds = self.max_seconds
        self.session.rerecord(self._selected_index())

    def discard_all(self) -> None:
        n = len(self.session.takes)
        if not self.session.can_decide:
            return
        if self.store.value("record/confirm_discard", True, type=bool):
            from PySide6.QtWidgets import QMessageBox

            box = QMessageBox(QMessageBox.Question, "Discard takes",
                              f"Delete {n} take(s)? This cannot be undone.",
                              QMessageBox.Discard | QMessageBox.Cancel, self)
            box.setAttribute(QtCore.Qt.WA_DeleteOnClose)
            box.finished.connect(lambda code: self.session.discard_all() if code == QMessageBox.Discard else None)
            box.open()
            return
        self.session.discard_all()

    def save(self, then: str = "draft") -> None:
        """Save every take into one draft; ``then`` = "draft", "edit" (open the editor) or "post"."""
        self.session.save(then)

    def _saved(self, draft, then: str) -> None:  # noqa: ANN001 - Draft
        if then == "edit":
            self.navigate.emit("editor", draft.id)
        elif then == "post":
            # One press: the Uploads page exports and queues it at once, under the draft's title.
            self.navigate.emit("uploads", {"draft_id": draft.id, "title": draft.title, "start": True})

    # -- takes ---------------------------------------------------------------------------------
    def _show_takes(self, takes: list) -> None:
        icons = {self.strip.item(i).data(USER_ROLE): self.strip.item(i).icon() for i in range(self.strip.count())}
        row = self.strip.currentRow()
        self.strip.clear()
        for i, take in enumerate(takes):
            item = QListWidgetItem(f"{i + 1} · {take.duration_us / 1e6:.1f} s")
            item.setData(USER_ROLE, take.id)
            item.setToolTip(f"Take {i + 1}: {take.duration_us / 1e6:.1f} s"
                            f"{'' if take.has_audio else ', no sound'}. Double-click to play.")
            icon = icons.get(take.id)
            if icon is None and self._last_frame is not None and take.stop_reason != "recovered":
                icon = QIcon(QPixmap.fromImage(frame_to_image(self._last_frame).scaled(
                    80, 45, QtCore.Qt.KeepAspectRatio, QtCore.Qt.SmoothTransformation)))
            if icon is not None:
                item.setIcon(icon)
            self.strip.addItem(item)
        if takes:
            self.strip.setCurrentRow(min(max(row, 0), len(takes) - 1) if row >= 0 else -1)
        self._refresh_controls()

    def _show_undo(self, pending: int) -> None:
        if pending:
            self.undo_bar.show_message(f"Take deleted{f' ({pending})' if pending > 1 else ''}.",
                                       ("Undo", self.undo_delete))
        else:
            self.undo_bar.hide()

    def _show_review(self, index: int) -> None:
        self._seq = -1
        self.play_button.setText("Stop playing" if index >= 0 else "Play take")
        self.preview.set_playing(f"Take {index + 1}" if index >= 0 else None)
        self._refresh_controls()

    def _offer_recovered(self, unsaved: list) -> None:
        self._recovered = list(unsaved)
        if not unsaved:
            return
        n = len(unsaved)
        self.recovered_bar.show_message(
            f"{n} unsaved take{'s' if n > 1 else ''} from an earlier session {'were' if n > 1 else 'was'} found.",
            ("Add to takes", self._adopt_recovered), ("Discard…", self._confirm_discard_recovered))

    def _adopt_recovered(self) -> None:
        self.session.adopt_recovered(self._recovered)
        self._recovered = []

    def _confirm_discard_recovered(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Warning, "Discard unsaved takes?",
                          "These recordings will be deleted for good.", QMessageBox.Discard | QMessageBox.Cancel, self)
        box.setAttribute(QtCore.Qt.WA_DeleteOnClose)

        def answered(code: int) -> None:
            if code == QMessageBox.Discard:
                self.session.discard_recovered(self._recovered)
                self._recovered = []
            else:
                self._offer_recovered(self._recovered)

        box.finished.connect(answered)
        box.open()

    # -- rendering -----------------------------------------------------------------------------
    def _render_state(self, state: State) -> None:
        if not state.recording:
            self.preview.set_recording_time(None)
            self.preview.set_countdown(None)
            self.badgeChanged.emit("")
        if state is State.OPENING and self.preview.image is None and not self.preview.message:
            self.preview.set_message("Opening the camera…")
        if state is State.RECORDING:
            self.counters.setText("Dropped 0 · Late 0")
            self._show_elapsed(0.0)
        elif state is State.READY:
            self._show_elapsed(0.0)
        self._refresh_controls()

    def _refresh_controls(self) -> None:
        # A button that gets disabled while focused would hand the focus on (maybe out of the page,
        # to the sidebar, where Space switches pages): keep it here.
        focus = QApplication.focusWidget()
        had_focus = focus is self or (focus is not None and self.isAncestorOf(focus))
        state, session = self.session.state, self.session
        self.record_button.setText(BUTTON_LABELS.get(state, "Record"))
        self.record_button.setEnabled(state in (State.READY, State.COUNTDOWN, State.RECORDING))
        locked = state not in IDLE
        for w in (self.source_box, self.mic_box, self.size_box, self.length_box, self.refresh_button):
            w.setEnabled(not locked)
        idle_with_takes = session.can_decide
        for b in (self.discard_button, self.save_button, self.delete_button, self.edit_button, self.post_button,
                  self.play_button):
            b.setEnabled(idle_with_takes)
        self.rerecord_button.setEnabled(idle_with_takes and state is State.READY)
        if bool(self.save_button.property("accent")) != idle_with_takes:   # (unset at first: not accented)
            # The accent gradient would make a disabled button look clickable.
            self.save_button.setProperty("accent", idle_with_takes)
            self.save_button.style().unpolish(self.save_button)
            self.save_button.style().polish(self.save_button)
        focus = QApplication.focusWidget()
        if had_focus and self.isVisible() and not (focus is self or (focus is not None and self.isAncestorOf(focus))):
            self.setFocus(QtCore.Qt.OtherFocusReason)
