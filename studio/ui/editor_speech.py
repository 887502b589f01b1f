"""The Editor's speech panel: Auto captions (progress, cancel), the caption lines (retype, split,
merge), the caption style, Remove silences, and a voiceover recorded at the playhead.

A thin client of ``EditorSession``: every button calls one session method and the panel only shows
what the session's signals report. The silence proposal is shown on the timeline
(``proposalChanged``) until it is applied (one undo step) or discarded.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from studio.editor import captions as cap
from studio.editor.captions import POSITIONS, PRESETS
from studio.editor.commands import EditCaptions
from studio.errors import user_message

US = 1_000_000


def _spin(value: float, lo: float, hi: float) -> QDoubleSpinBox:
    b = QDoubleSpinBox()
    b.setRange(lo, hi)
    b.setSingleStep(0.05)
    b.setDecimals(2)
    b.setSuffix(" s")
    b.setValue(value)
    return b


class SpeechPanel(QWidget):
    proposalChanged = Signal(object)      # SilenceProposal, or None when discarded / applied

    def __init__(self, editor, parent: QWidget | None = None, *,  # noqa: ANN001 - EditorSession
                 playhead=lambda: 0):  # noqa: ANN001 - () -> timeline µs, where a voiceover starts
        super().__init__(parent)
        self.setObjectName("SpeechPanel")
        self.editor = editor
        self.playhead = playhead
        self._loading = False
        self._document = None
        title = QLabel("Captions & silences")
        title.setObjectName("PageSubtitle")
        self.captions_button = QPushButton("Auto captions")
        self.captions_button.setObjectName("speech-auto-captions")
        self.captions_button.setToolTip("Transcribe the reel on this computer and add word-timed captions")
        self.captions_button.clicked.connect(self.start_captions)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.editor.cancel_captions)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("PageSubtitle")
        self.preset = QComboBox()
        for key, label in PRESETS.items():
            self.preset.addItem(label, key)
        self.position = QComboBox()
        for key in POSITIONS:
            self.position.addItem(key.capitalize(), key)
        self.burn_in = QCheckBox("Burn into the video (else a .vtt file beside it)")
        self.preset.currentIndexChanged.connect(lambda _i: self._style(preset=self.preset.currentData()))
        self.position.currentIndexChanged.connect(lambda _i: self._style(position=self.position.currentData()))
        self.burn_in.toggled.connect(lambda on: self._style(burn_in=on))
        self.min_silence = _spin(0.7, 0.1, 10.0)
        self.padding = _spin(0.15, 0.0, 2.0)
        self.find_button = QPushButton("Find silences")
        self.find_button.setObjectName("speech-find-silences")
        self.find_button.clicked.connect(self.find_silences)
        self.apply_button = QPushButton("Remove them")
        self.apply_button.setObjectName("speech-apply-silences")
        self.apply_button.clicked.connect(self.apply_silences)
        self.discard_button = QPushButton("Keep them")
        self.discard_button.clicked.connect(lambda: self._show_proposal(None))
        self.silence_label = QLabel("")
        self.silence_label.setWordWrap(True)
        self.silence_label.setObjectName("PageSubtitle")
        self.lines = QListWidget()
        self.lines.setObjectName("speech-lines")
        self.lines.setMaximumHeight(140)
        self.lines.currentRowChanged.connect(self._line_picked)
        self.line_edit = QLineEdit()
        self.line_edit.setObjectName("speech-line-edit")
        self.line_edit.setPlaceholderText("Pick a line to correct its words")
        self.line_edit.returnPressed.connect(self.retype_line)
        self.split_button = QPushButton("Split at cursor")
        self.split_button.setToolTip("The words from the cursor on become a line of their own")
        self.split_button.clicked.connect(self.split_line)
        self.merge_button = QPushButton("Merge with next")
        self.merge_button.clicked.connect(self.merge_line)
        self.voice_button = QPushButton("Record voiceover")
        self.voice_button.setObjectName("speech-voiceover")
        self.voice_button.setCheckable(True)
        self.voice_button.setToolTip("Narrate from the playhead with the microphone; the music ducks under "
                                     "your voice")
        self.voice_button.toggled.connect(self._voiceover)
        self.voice_label = QLabel("")
        self.voice_label.setWordWrap(True)
        self.voice_label.setObjectName("PageSubtitle")

        lay = QVBoxLayout(self)
        lay.addWidget(title)
        row = QHBoxLayout()
        row.addWidget(self.captions_button)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.lines)
        lay.addWidget(self.line_edit)
        row = QHBoxLayout()
        row.addWidget(self.split_button)
        row.addWidget(self.merge_button)
        lay.addLayout(row)
        form = QFormLayout()
        form.addRow("Style", self.preset)
        form.addRow("Position", self.position)
        form.addRow("", self.burn_in)
        form.addRow("Shortest silence", self.min_silence)
        form.addRow("Keep around speech", self.padding)
        lay.addLayout(form)
        lay.addWidget(self.find_button)
        lay.addWidget(self.silence_label)
        row = QHBoxLayout()
        row.addWidget(self.apply_button)
        row.addWidget(self.discard_button)
        lay.addLayout(row)
        lay.addWidget(self.voice_button)
        lay.addWidget(self.voice_label)
        lay.addStretch(1)

        editor.opened.connect(lambda *_: self._attach())
        editor.captions_progress.connect(lambda f: self.progress.setValue(round(f * 100)))
        editor.captions_finished.connect(self._captions_done)
        editor.captions_failed.connect(lambda e: self._captions_ended(user_message(e)))
        editor.captions_cancelled.connect(lambda: self._captions_ended("Cancelled; the captions are as they were."))
        editor.silences_proposed.connect(self._show_proposal)
        editor.silences_failed.connect(lambda e: self.silence_label.setText(user_message(e)))
        editor.voiceover_started.connect(lambda: self.voice_label.setText("Recording… press again to stop."))
        editor.voiceover_added.connect(lambda _id: self._voice_ended("The voiceover is on the timeline; the music "
                                                                     "ducks under it. Undo takes it away."))
        editor.voiceover_failed.connect(lambda e: self._voice_ended(user_message(e)))
        self._attach()

    # -- state -----------------------------------------------------------------------------------
    def _attach(self) -> None:
        doc = self.editor.document
        if doc is not self._document:
            if self._document is not None:
                try:
                    self._document.changed.disconnect(self.refresh)
                except (RuntimeError, TypeError):
                    pass
            self._document = doc
            if doc is not None:
                doc.changed.connect(self.refresh)
        self._show_proposal(None)
        self.refresh()

    def refresh(self) -> None:
        doc = self.editor.document
        busy = self.editor.transcribing
        self.setEnabled(doc is not None)
        self.captions_button.setEnabled(doc is not None and not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)
        if doc is None:
            return
        caps = doc.edit.captions
        self._loading = True
        try:
            self.preset.setCurrentIndex(max(0, self.preset.findData(caps.style.preset)))
            self.position.setCurrentIndex(max(0, self.position.findData(caps.style.position)))
            self.burn_in.setChecked(caps.style.burn_in)
        finally:
            self._loading = False
        self._show_lines(caps.segments)
        if not busy:
            words = len(caps.words)
            self.captions_button.setText("Redo captions" if words else "Auto captions")
            if not self.status.text() or self.status.property("auto"):
                self.status.setText(f"{words} words in {len(caps.segments)} lines." if words else "")
                self.status.setProperty("auto", True)

    def _style(self, **changes) -> None:  # noqa: ANN003
        from studio.editor.commands import SetCaptionStyle

        if self._loading or self.editor.document is None:
            return
        try:
            self.editor.document.do(SetCaptionStyle, **changes)
        except Exception as e:  # noqa: BLE001 - EditError: shown, nothing changed
            self.status.setText(user_message(e))

    # -- caption lines ---------------------------------------------------------------------------
    def _show_lines(self, segments) -> None:  # noqa: ANN001 - list[CaptionSegment]
        picked = self._line_id()
        self.lines.blockSignals(True)
        self.lines.clear()
        for seg in segments:
            item = QListWidgetItem(f"{seg.start_us / US:5.1f} s  {' '.join(w.text for w in seg.words)}")
            item.setData(Qt.ItemDataRole.UserRole, seg.id)
            self.lines.addItem(item)
            if seg.id == picked:
                self.lines.setCurrentItem(item)
        self.lines.blockSignals(False)
        has = bool(segments)
        for w in (self.lines, self.line_edit, self.split_button, self.merge_button):
            w.setVisible(has)
        self._line_picked(self.lines.currentRow())

    def _line_id(self) -> str | None:
        item = self.lines.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _line_picked(self, _row: int) -> None:
        seg_id, doc = self._line_id(), self.editor.document
        if seg_id is None or doc is None:
            self.line_edit.clear()
            return
        try:
            self.line_edit.setText(" ".join(w.text for w in cap.segment(doc.edit, seg_id).words))
        except Exception:  # noqa: BLE001 - EditError: the line went away meanwhile
            self.line_edit.clear()

    def _edit_line(self, text: str, operation) -> None:  # noqa: ANN001 - (Edit) -> Edit
        if self.editor.document is None or self._line_id() is None:
            return
        try:
            self.editor.document.do(EditCaptions, text, operation)
        except Exception as e:  # noqa: BLE001 - EditError: the sentence, nothing changed
            self.status.setProperty("auto", False)
            self.status.setText(user_message(e))

    def retype_line(self) -> None:
        seg_id, text = self._line_id(), self.line_edit.text()
        self._edit_line("Correct caption", lambda e: cap.set_line_text(e, seg_id, text))

    def split_line(self) -> None:
        seg_id = self._line_id()
        at = cap.word_index_at(self.line_edit.text(), self.line_edit.cursorPosition())
        self._edit_line("Split caption line", lambda e: cap.split_segment(e, seg_id, at))

    def merge_line(self) -> None:
        seg_id = self._line_id()
        self._edit_line("Merge caption lines", lambda e: cap.merge_segments(e, seg_id))

    # -- voiceover -------------------------------------------------------------------------------
    def _voiceover(self, on: bool) -> None:
        if on:
            if not self.editor.start_voiceover(self.playhead()):
                self.voice_button.blockSignals(True)
                self.voice_button.setChecked(False)
                self.voice_button.blockSignals(False)
        else:
            self.voice_label.setText("Adding the voiceover…")
            self.editor.stop_voiceover()

    def _voice_ended(self, text: str) -> None:
        self.voice_button.blockSignals(True)
        self.voice_button.setChecked(False)
        self.voice_button.blockSignals(False)
        self.voice_label.setText(text)

    # -- captions --------------------------------------------------------------------------------
    def start_captions(self) -> None:
        if self.editor.auto_captions():
            self.status.setProperty("auto", False)
            self.status.setText("Listening to the reel…")
            self.progress.setValue(0)
            self.refresh()

    def _captions_done(self, words: int) -> None:
        self._captions_ended(f"Added {words} words. Undo takes them away again." if words else
                             "No speech was heard in this reel.")

    def _captions_ended(self, text: str) -> None:
        self.status.setProperty("auto", False)
        self.status.setText(text)
        self.refresh()

    # -- silences --------------------------------------------------------------------------------
    def find_silences(self) -> None:
        self.silence_label.setText("Looking for silences…")
        self.editor.propose_silences(min_silence_us=round(self.min_silence.value() * US),
                                     padding_us=round(self.padding.value() * US))

    def _show_proposal(self, proposal) -> None:  # noqa: ANN001 - SilenceProposal | None
        self.editor.silence_proposal = proposal
        has = proposal is not None and bool(proposal.cuts)
        self.apply_button.setVisible(has)
        self.discard_button.setVisible(has)
        if proposal is None:
            self.silence_label.setText("")
        elif not proposal.cuts:
            self.silence_label.setText("No silence that long: nothing to remove.")
        else:
            self.silence_label.setText(f"{len(proposal.cuts)} silences, {proposal.removed_us / US:.1f} s "
                                       "(marked red on the timeline).")
        self.proposalChanged.emit(proposal if has else None)

    def apply_silences(self) -> None:
        try:
            self.editor.apply_silence_cuts()
        except Exception as e:  # noqa: BLE001 - EditError: shown, nothing changed
            self.silence_label.setText(user_message(e))
            return
        self._show_proposal(None)
