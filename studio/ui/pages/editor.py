"""The Editor page: preview, timeline, inspector, overlays on the picture, undo, export.

The page shows an ``EditorSession`` (studio.editor.session), which owns the workflow: opening the
draft off the UI thread, its assets, importing music or a sticker image, thumbnails and waveforms, and
the save-then-export sequence. Every change is an editor-core command pushed on the draft's
``EditSession`` (``page.session``: the document, undo/redo, autosave); frames come from the
``PlaybackWorker`` thread. The page keeps widgets and wiring: it calls session methods and renders
their signals.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractSlider, QAbstractSpinBox, QApplication, QFileDialog, QHBoxLayout, QLabel,
                               QLineEdit, QMenu, QPlainTextEdit, QProgressBar, QPushButton, QSizePolicy, QSlider,
                               QSplitter, QStackedWidget, QTextEdit, QToolButton, QVBoxLayout, QWidget)

from studio.editor import document as _doc
from studio.editor.session import EditorSession
from studio.tasks import user_message

from studio.ui.common import page_header
from studio.ui.editor_inspector import Inspector, scrolling
from studio.ui.editor_speech import SpeechPanel
from studio.ui.editor_timeline import Timeline
from studio.ui.editor_viewport import PreviewViewport

log = logging.getLogger(__name__)
# The document owns the limits (validate() checks them); the widgets only read them.
TEXT_SIZE_RANGE: tuple[float, float] = getattr(_doc, "TEXT_SIZE_RANGE", (0.005, 0.5))
STICKER_SCALE_RANGE: tuple[float, float] = getattr(_doc, "STICKER_SCALE_RANGE", (0.01, 4.0))
US = 1_000_000
THUMB_H = 48


def _clock(us: int) -> str:
    s = max(0, us) / US
    return f"{int(s // 60)}:{s % 60:05.2f}"


def key_sequences(*keys: str | QKeySequence.StandardKey, taken: set[str] | None = None) -> list[QKeySequence]:
    """Every binding of ``keys`` (a standard key brings all of the platform's bindings), each once.

    Qt treats a sequence registered by two shortcuts as ambiguous and fires neither (on GNOME and
    KDE, StandardKey.Redo already contains Ctrl+Shift+Z), so each sequence is registered once;
    ``taken`` holds the sequences other shortcuts of the page already use.
    """
    seen = taken if taken is not None else set()
    out: list[QKeySequence] = []
    for key in keys:
        bindings = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
        for seq in bindings:
            text = seq.toString(QKeySequence.SequenceFormat.PortableText)
            if text and text not in seen:
                seen.add(text)
                out.append(seq)
    return out


def _is_typing_widget(w: QWidget | None) -> bool:
    """A widget that takes typed text (the editor's single-key shortcuts must leave it alone)."""
    return isinstance(w, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox))


class _StatusLabel(QLabel):
    """A one-line status that never widens its row: what does not fit is in its tooltip."""

    def __init__(self) -> None:
        super().__init__("")
        self.setMinimumWidth(60)      # an explicit minimum: the layout may shrink it below the text
        self.setMaximumWidth(340)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setToolTip(text)


class EditorPage(QWidget):
    navigate = Signal(str, object)
    titleChanged = Signal(str)            # the open draft was renamed (here or elsewhere)
    _store_event = Signal(str, object)    # a drafts-store event (from any thread) handed to the UI thread

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.editor = EditorSession(studio, parent=self)
        self.worker = None
        self.selection: tuple[str, str] = ("", "")
        self.rate = 0.0
        self._resize_origin: dict[str, float] = {}
        self._overlay_items: dict = {}
        self._closed = False
        from studio.media.sound import AudioFeed

        self.audio = AudioFeed(self)
        self._saved_doc: dict | None = None     # the edit as last saved: "Edited" means different from it
        self._unsubscribe = None
        self._build()
        self._wire_editor()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- the session this page shows ----------------------------------------------------------------
    @property
    def session(self):  # noqa: ANN201 - studio.editor.commands.EditSession | None
        """The open draft's document (edit, undo stack, autosave); None while nothing is open."""
        return self.editor.document

    @property
    def draft(self):  # noqa: ANN201 - studio.drafts.types.Draft | None
        return self.editor.draft

    @property
    def assets(self) -> dict:
        return self.editor.assets

    @property
    def export_job(self):  # noqa: ANN201 - studio.editor.export.ExportJob | None
        return self.editor.export_job

    def _wire_editor(self) -> None:
        e = self.editor
        e.opened.connect(self._opened)
        e.failed.connect(self._open_failed)
        e.title_changed.connect(self._show_title)
        e.media_imported.connect(self._on_media_imported)
        e.import_failed.connect(lambda file, exc: self.save_label.setText(
            f"“{Path(file).name}” could not be added: {user_message(exc)}"))
        e.thumbnails_ready.connect(self.timeline.set_thumbnails)
        e.waveform_ready.connect(self.timeline.set_waveform)
        e.export_saving.connect(lambda: self.export_label.setText("Saving the edit…"))
        e.export_started.connect(self._on_export_started)
        e.export_progress.connect(self._on_export_progress)
        e.export_finished.connect(self._on_export_done)
        e.export_failed.connect(lambda exc: self._export_ended(f"Export failed: {user_message(exc)}"))
        e.export_cancelled.connect(lambda: self._export_ended("Export cancelled."))

    # -- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.pages = QStackedWidget()
        self.empty = self._build_empty()
        self.loading = QLabel("Opening the draft…")
        self.loading.setObjectName("EmptyState")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.workspace = self._build_workspace()
        for w in (self.empty, self.loading, self.workspace):
            self.pages.addWidget(w)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 16)
        self.header = page_header("Editor", "Trim, add music, text and stickers. Your takes are never modified.")
        lay.addWidget(self.header)
        lay.addWidget(self.pages, 1)
        self._build_shortcuts()

    def _build_empty(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        note = QLabel("No draft is open. Open one from Drafts, or record a new take.")
        note.setObjectName("EmptyState")
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note = note
        row = QHBoxLayout()
        row.addStretch(1)
        drafts = QPushButton("Open Drafts")
        drafts.setProperty("accent", True)
        drafts.clicked.connect(lambda: self.navigate.emit("drafts", None))
        record = QPushButton("Record a take")
        record.clicked.connect(lambda: self.navigate.emit("record", None))
        row.addWidget(drafts)
        row.addWidget(record)
        row.addStretch(1)
        lay.addStretch(1)
        lay.addWidget(note)
        lay.addLayout(row)
        lay.addStretch(2)
        return box

    def _build_workspace(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._build_toolbar())

        self.viewport = PreviewViewport()
        self.viewport.overlaySelected.connect(self._on_preview_selected)
        self.viewport.overlayMoved.connect(self._on_overlay_moved)
        self.viewport.overlayResized.connect(self._on_overlay_resized)
        self.viewport.overlayActivated.connect(self._on_overlay_activated)

        self.inspector = Inspector()
        self.inspector.changeRequested.connect(self._on_inspector_change)
        self.inspector.dragFinished.connect(self._end_drag)
        self.inspector.actionRequested.connect(self._on_inspector_action)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.viewport)
        self.split.addWidget(self.inspector)
        self.speech_panel = SpeechPanel(self.editor, playhead=lambda: self.timeline.position_us)   # "Captions" button
        self.speech_area = scrolling(self.speech_panel, self)
        self.speech_area.hide()
        self.split.addWidget(self.speech_area)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        lay.addWidget(self.split, 1)

        lay.addWidget(self._build_transport())
        self.timeline = Timeline()
        self.timeline.seekRequested.connect(self._on_timeline_seek)
        self.timeline.selectionChanged.connect(self._select)
        self.timeline.trimRequested.connect(self._on_trim)
        self.timeline.musicMoveRequested.connect(self._on_music_move)
        self.timeline.overlayTimeRequested.connect(self._on_overlay_time)
        self.timeline.zoomChanged.connect(self._on_zoom_changed)
        lay.addWidget(self.timeline)
        self.speech_panel.proposalChanged.connect(self.timeline.set_silence_proposal)
        lay.addLayout(self._build_export_bar())
        return box

    def _build_transport(self) -> QWidget:
        """The bar between the preview and the timeline: play and time, the timeline's tools, zoom."""
        bar = QWidget()
        bar.setObjectName("TransportBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 2, 0, 2)
        self.transport_bar = bar
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("PlayButton")
        self.play_button.setToolTip("Play / pause (Space); J K L shuttle; ← → one frame")
        self.play_button.clicked.connect(self.toggle_play)
        self.time_label = QLabel("0:00.00 / 0:00.00")
        self.audio_label = QLabel("")
        self.audio_label.setObjectName("PageSubtitle")
        # a long "playing without sound: …" sentence must not widen the window; its tooltip has all of it
        self.audio_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.audio_label.setMinimumWidth(40)

        def tool(text: str, tip: str, slot, name: str) -> QToolButton:  # noqa: ANN001
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setObjectName(name)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.clicked.connect(lambda _=False: slot())
            return b

        self.split_button = tool("Split", "Split the clip at the playhead (Ctrl+B or S)", self.split_at_playhead,
                                 "tool-split")
        self.delete_button = tool("Delete", "Delete the selected item (Delete)", self.delete_selected, "tool-delete")
        self.duplicate_button = tool("Duplicate", "Duplicate the selected item (Ctrl+D)", self.duplicate_selected,
                                     "tool-duplicate")
        self.snap_button = tool("Snap", "Snap drags to the playhead, clip edges and markers", lambda: None,
                                "tool-snap")
        self.snap_button.setCheckable(True)
        self.snap_button.setChecked(True)
        self.snap_button.toggled.connect(self._set_snapping)
        self.zoom_out_button = tool("−", "Zoom out (Ctrl+−, Ctrl+wheel)", lambda: self.zoom_by(1 / 1.5),
                                    "tool-zoom-out")
        self.zoom_in_button = tool("+", "Zoom in (Ctrl++, Ctrl+wheel)", lambda: self.zoom_by(1.5), "tool-zoom-in")
        self.zoom_fit_button = tool("Fit", "See the whole reel (Ctrl+0)", lambda: self.set_zoom(1.0), "tool-zoom-fit")
        self.zoom_slider = QSlider(Qt.Orientation.Horizontal)
        self.zoom_slider.setObjectName("ZoomSlider")
        self.zoom_slider.setToolTip("Timeline zoom")
        self.zoom_slider.setRange(0, 100)          # logarithmic: 0 = whole reel, 100 = the timeline's most
        self.zoom_slider.setFixedWidth(110)
        self.zoom_slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.zoom_slider.valueChanged.connect(self._on_zoom_slider)
        row.addWidget(self.play_button)
        row.addWidget(self.time_label)
        row.addSpacing(12)
        for w in (self.split_button, self.delete_button, self.duplicate_button):
            row.addWidget(w)
        row.addSpacing(12)
        row.addWidget(self.snap_button)
        row.addWidget(self._build_effects_button())
        row.addWidget(self.audio_label, 1)
        for w in (self.zoom_out_button, self.zoom_slider, self.zoom_in_button, self.zoom_fit_button):
            row.addWidget(w)
        return bar

    def _build_effects_button(self) -> QToolButton:
        """"Effects": transitions, cut to the beat, follow subject and the safe-zone guide, in one menu
        (the transport bar has room for one more button at the smallest window)."""
        from studio.editor.safezones import PLATFORMS

        b = QToolButton()
        b.setText("Effects")
        b.setObjectName("tool-effects")
        b.setToolTip("Transitions, cuts on the beat, follow subject, safe zones")
        b.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(b)
        self.transition_menu = menu.addMenu("Transition after this clip")
        for kind, name in (("crossfade", "Crossfade"), ("dip", "Dip to black"), ("slide", "Slide"),
                           ("zoom", "Zoom"), ("whip", "Whip"), (None, "No transition")):
            self.transition_menu.addAction(name).setData(kind)
        self.transition_menu.triggered.connect(lambda action: self.set_transition(action.data()))
        self.beat_button = menu.addAction("Cut to the beat")
        self.beat_button.setToolTip("Trim the clips so every cut lands on a beat of the music")
        self.beat_button.triggered.connect(lambda _=False: self.cut_to_the_beat())
        self.follow_button = menu.addAction("Follow subject")
        self.follow_button.setToolTip("Frame the selected clip for the canvas, following faces (or what moves)")
        self.follow_button.triggered.connect(lambda _=False: self.follow_subject())
        self.safe_zone_menu = menu.addMenu("Safe zones")
        self.safe_zone_platform = ""
        for key, name in {"": "Off", **PLATFORMS}.items():
            action = self.safe_zone_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(key == "")
            action.setData(key)
        self.safe_zone_menu.triggered.connect(lambda action: self.set_safe_zone(action.data()))
        b.setMenu(menu)
        self.effects_button = self.safe_zone_button = self.transition_button = b
        return b

    def _clip_for_tool(self):  # noqa: ANN202 - Clip | None
        """The selected clip, or the one under the playhead."""
        edit = self.session.edit if self.session else None
        if edit is None or not edit.clips:
            return None
        kind, item_id = self.selection
        if kind == "clip" and any(c.id == item_id for c in edit.clips):
            return edit.clip(item_id)
        t = self.timeline.position_us
        return next((c for c, a, b in edit.clip_ranges() if a <= t < b), edit.clips[-1])

    def set_transition(self, kind: str | None, duration_us: int = 500_000) -> None:
        from studio.editor.visual_commands import SetTransition

        clip = self._clip_for_tool()
        if clip is None:
            return
        self._do(SetTransition, self.session.edit.clip_index(clip.id) + 1, kind, duration_us)

    def cut_to_the_beat(self) -> None:
        """Analyse the first music track in the background, then trim the clips onto its beats (undoable)."""
        from studio.editor.visual_commands import ApplyEdit
        from studio.tasks import run_in_background
        from studio.visual.beats import cut_to_the_beat_files

        edit = self.session.edit if self.session else None
        if edit is None:
            return
        if not edit.music:
            self.save_label.setText("Add music first: the cuts follow its beat.")
            return
        track = edit.music[0]
        music = self.assets.get(track.asset_id)
        if music is None:
            self.save_label.setText("The music's file is missing from this draft.")
            return
        takes = {a.id: a.path for a in self.assets.values() if a.kind == "video" and a.has_audio}
        self.beat_button.setEnabled(False)
        self.save_label.setText("Finding the beat…")

        def done(result) -> None:  # noqa: ANN001
            self.beat_button.setEnabled(True)
            new_edit, analysis = result
            if self._do(ApplyEdit, "Cut to the beat", edit, new_edit) is not None:
                self.save_label.setText(f"Cut to the beat: {analysis.tempo_bpm:.0f} BPM.")

        def failed(exc: BaseException) -> None:
            self.beat_button.setEnabled(True)
            self.save_label.setText(user_message(exc))

        run_in_background(cut_to_the_beat_files, edit, track.id, music.path, takes, owner=self,
                          on_done=done, on_error=failed)

    def follow_subject(self) -> None:
        """Reframe the selected clip (or the one under the playhead) to follow its subject: the
        analysis runs in the background, the result is one undoable step."""
        from studio.editor.document import update_clip
        from studio.editor.visual_commands import ApplyEdit
        from studio.tasks import run_in_background
        from studio.visual.reframe_path import follow_subject

        clip = self._clip_for_tool()
        asset = self.assets.get(clip.asset_id) if clip is not None else None
        if asset is None or asset.kind != "video":
            self.save_label.setText("Select a video clip to follow its subject.")
            return
        edit = self.session.edit
        cw, ch = edit.canvas.width, edit.canvas.height
        self.follow_button.setEnabled(False)
        self.save_label.setText("Finding the subject…")

        def work():  # noqa: ANN202
            keys, subject = follow_subject(asset.path, clip, asset.width, asset.height, cw, ch)
            return update_clip(edit, clip.id, reframe={"mode": "follow", "crop": None, "x": 0.0, "y": 0.0,
                                                       "keys": [k.to_dict() for k in keys]}), subject

        def done(result) -> None:  # noqa: ANN001
            self.follow_button.setEnabled(True)
            new_edit, subject = result
            if self._do(ApplyEdit, "Follow subject", edit, new_edit) is not None:
                self.save_label.setText({"face": "Following the face.", "motion": "Following what moves.",
                                         "none": "No subject found; the shot stays centred."}[subject])

        def failed(exc: BaseException) -> None:
            self.follow_button.setEnabled(True)
            self.save_label.setText(user_message(exc))

        run_in_background(work, owner=self, on_done=done, on_error=failed)

    def set_safe_zone(self, platform: str) -> None:
        """Show the guide of ``platform`` ("" for none) and the texts it would hide."""
        from studio.editor.safezones import zones

        self.safe_zone_platform = platform or ""
        for action in self.safe_zone_menu.actions():
            action.setChecked(action.data() == self.safe_zone_platform)
        self.viewport.set_safe_zones(zones(platform) if platform else [])
        self._update_safe_zone_warning()

    def _update_safe_zone_warning(self) -> None:
        from studio.editor.safezones import covered_overlays

        edit = self.session.edit if self.session else None
        warnings = []
        if edit is not None and self.safe_zone_platform:
            cw, ch = self.viewport.canvas_size
            boxes = {oid: (r.x() / cw, r.y() / ch, r.width() / cw, r.height() / ch)
                     for oid, (kind, r) in self.viewport.boxes.items() if kind == "text"}
            warnings = covered_overlays(edit, self.safe_zone_platform, boxes)
        self.safe_zone_warnings = warnings
        self.safe_zone_button.setToolTip("\n".join(w.message for w in warnings) or
                                         "Transitions, cuts on the beat, follow subject, safe zones")
        self.safe_zone_button.setText(f"Effects ⚠ {len(warnings)}" if warnings else "Effects")

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.title_label = QLabel("")
        self.title_label.setObjectName("PageSubtitle")
        self.add_text_button = QPushButton("Add text")
        self.add_text_button.clicked.connect(lambda: self.add_text())
        self.add_sticker_button = QPushButton("Add sticker")
        self.sticker_menu = QMenu(self.add_sticker_button)
        self.sticker_menu.aboutToShow.connect(self._fill_sticker_menu)
        self.add_sticker_button.setMenu(self.sticker_menu)
        self.add_music_button = QPushButton("Add music…")
        self.add_music_button.clicked.connect(self._choose_music)
        self.reel_button = QPushButton("Reel")
        self.reel_button.setToolTip("Reel settings: shape, caption, sound and cover")
        self.reel_button.clicked.connect(self.show_reel_settings)
        self.captions_button = QPushButton("Captions")
        self.captions_button.setCheckable(True)
        self.captions_button.setToolTip("Auto captions, their style, and Remove silences (jump cuts)")
        self.captions_button.toggled.connect(lambda on: self.speech_area.setVisible(on))
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.redo_button = QPushButton("Redo")
        self.redo_button.setToolTip("Redo (Ctrl+Shift+Z)")
        self.redo_button.clicked.connect(self.redo)
        self.save_label = _StatusLabel()
        self.save_label.setObjectName("PageSubtitle")
        self.save_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.export_button = QPushButton("Export")
        self.export_button.setProperty("accent", True)
        self.export_button.setToolTip("Render the reel to an MP4 ready to upload")
        self.export_button.clicked.connect(lambda: self.export())
        self.export_to_button = QPushButton("Export to…")
        self.export_to_button.clicked.connect(self._export_to)
        self.title_label.setMinimumWidth(60)     # a long title gives way to the buttons (tooltip: all of it)
        self.title_label.setMaximumWidth(260)
        row.addWidget(self.title_label)
        for w in (self.add_text_button, self.add_sticker_button, self.add_music_button, self.reel_button,
                  self.captions_button, self.undo_button, self.redo_button):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.save_label)
        row.addWidget(self.export_to_button)
        row.addWidget(self.export_button)
        return row

    def _build_export_bar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.export_progress = QProgressBar()
        self.export_progress.setRange(0, 1000)
        self.export_progress.setVisible(False)
        self.export_label = QLabel("")
        self.export_label.setObjectName("PageSubtitle")
        self.export_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_export)
        row.addWidget(self.export_progress, 1)
        row.addWidget(self.export_label, 1)
        row.addWidget(self.cancel_button)
        from studio.ui.export_done import ExportDoneBar   # "Play" / "Show in folder" after an export

        self.export_done = ExportDoneBar()
        row.addWidget(self.export_done, 1)
        return row

    def _build_shortcuts(self) -> None:
        plain = lambda fn: (lambda: self._unless_typing(fn))  # noqa: E731 - single keys a text field may want
        keys = [(("Space",), plain(self.toggle_play)), (("Left",), lambda: self._arrow(-1)),
                (("Right",), lambda: self._arrow(1)), (("J",), plain(lambda: self.shuttle(-1))),
                (("K",), plain(self.pause)), (("L",), plain(lambda: self.shuttle(1))),
                ((QKeySequence.StandardKey.Undo,), self.undo),
                ((QKeySequence.StandardKey.Redo, "Ctrl+Shift+Z", "Ctrl+Y"), self.redo),
                (("Ctrl+B",), self.split_at_playhead), (("S",), plain(self.split_at_playhead)),
                (("Delete", "Backspace"), plain(self.delete_selected)), (("Ctrl+D",), self.duplicate_selected),
                ((QKeySequence.StandardKey.ZoomIn, "Ctrl+="), lambda: self.zoom_by(1.5)),
                ((QKeySequence.StandardKey.ZoomOut,), lambda: self.zoom_by(1 / 1.5)),
                (("Ctrl+0",), lambda: self.set_zoom(1.0)), (("Escape",), self._escape)]
        self.shortcuts = []
        taken: set[str] = set()
        for names, slot in keys:
            for seq in key_sequences(*names, taken=taken):
                sc = QShortcut(seq, self)
                # the whole window while the editor is the page shown (hidden pages' shortcuts never fire),
                # so Space plays even when the sidebar has the focus; text fields still get their keys
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.activated.connect(slot)
                self.shortcuts.append(sc)

    def _escape(self) -> None:
        """Esc leaves a text field (typing is over), or else clears the selection."""
        if _is_typing_widget(QApplication.focusWidget()):
            self._end_drag()
            self.setFocus()
        elif self.selection != ("", ""):
            self._select("", "")

    def _unless_typing(self, fn) -> None:  # noqa: ANN001
        """Single-key shortcuts do nothing while the creator types (text fields normally claim them first)."""
        if not _is_typing_widget(QApplication.focusWidget()):
            fn()

    def _arrow(self, frames: int) -> None:
        """← →: one frame, except in a text field or on a focused slider, whose arrows they are."""
        focus = QApplication.focusWidget()
        if _is_typing_widget(focus):
            return
        if isinstance(focus, QAbstractSlider):
            # window shortcuts see the key before the slider does: hand it its step
            focus.triggerAction(QAbstractSlider.SliderAction.SliderSingleStepSub if frames < 0
                                else QAbstractSlider.SliderAction.SliderSingleStepAdd)
            return
        self.step(frames)

    # -- opening a draft ----------------------------------------------------------------------------
    def activated(self, payload: object = None) -> None:
        """Shown by the main window; ``payload`` is a draft id to open (None keeps what is open)."""
        draft_id = payload if isinstance(payload, str) else None
        if draft_id is None:
            if self.session is None and self.editor.loading_id is None:
                self.pages.setCurrentWidget(self.empty)
            self._refresh_title()
            return
        if self.editor.draft_id == draft_id or self.editor.loading_id == draft_id:
            self._refresh_title()
            return
        self.open_draft(draft_id)

    def open_draft(self, draft_id: str) -> None:
        self._close_session()
        self.pages.setCurrentWidget(self.loading)
        self.editor.open(draft_id)

    # -- the draft's title follows the store (a rename on the Drafts page, the CLI) -----------------
    def _watch_store(self) -> None:
        if self._unsubscribe is not None:
            return
        store = getattr(self.studio, "drafts", None)
        if store is None or not hasattr(store, "subscribe"):
            return
        self._store_event.connect(self._on_store_event, Qt.ConnectionType.QueuedConnection)
        relay = self._store_event.emit
        unsubscribe = store.subscribe(lambda event, ids: relay(event, tuple(ids)))
        self._unsubscribe = unsubscribe
        self.destroyed.connect(lambda *_: unsubscribe())

    def _on_store_event(self, event: str, ids: tuple) -> None:
        if self.session is not None and self.session.draft_id in ids and not self._closed:
            self._refresh_title()

    def _refresh_title(self) -> None:
        """Re-read the open draft's title (off the UI thread); ``title_changed`` shows it."""
        if not self._closed:
            self.editor.refresh_title()

    def _show_title(self, title: str) -> None:
        if title != self.title_label.text():
            self.title_label.setText(title)
            self.title_label.setToolTip(title)
            self.titleChanged.emit(title)

    def _open_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "message", None) or user_message(exc)
        self.empty_note.setText(f"This draft could not be opened: {message}")
        self.pages.setCurrentWidget(self.empty)

    def _opened(self, draft, assets: dict) -> None:  # noqa: ANN001 - studio.drafts.types.Draft
        from studio.editor.playback import PlaybackWorker
        from studio.editor.preview import PreviewCompositor

        if self._closed:
            return
        edit = self.session.edit
        self.session.changed.connect(self._on_edit_changed)
        self.session.saved.connect(self._on_saved)
        self.session.save_failed.connect(self._on_save_failed)
        self.session.stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.session.stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        compositor = PreviewCompositor(edit, assets, cache_dir=self.studio.layout.cache)
        self.viewport.set_canvas_size(compositor.size)
        self.worker = PlaybackWorker(compositor)
        self.worker.frameReady.connect(self._on_frame)
        self.worker.positionChanged.connect(self._on_position)
        self.worker.playingChanged.connect(self._on_playing)
        self.worker.failed.connect(self._on_preview_failed)
        self.worker.audioStatus.connect(self.audio_label.setText)
        self.worker.overlaysReady.connect(self._on_overlays)
        self.worker.start()
        self.title_label.setText(draft.title)
        self.title_label.setToolTip(draft.title)
        self._saved_doc = edit.to_dict()
        self._watch_store()
        self.save_label.setText("")
        self.export_label.setText("")
        self.viewport.set_message("" if edit.clips else "This draft has no clips.")
        self._select("", "")
        self._refresh_views()
        self.pages.setCurrentWidget(self.workspace)
        self.worker.seek(0)
        self.editor.request_previews(THUMB_H)
        self.setFocus()

    def _close_session(self) -> None:
        self.audio.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.session is not None:
            self.session.changed.disconnect(self._on_edit_changed)
            self.session.saved.disconnect(self._on_saved)
            self.session.save_failed.disconnect(self._on_save_failed)
        self.editor.close()   # saves what is unsaved, in the background
        self.timeline.thumbs.clear()
        self.timeline.waveforms.clear()
        self._saved_doc = None

    def shutdown(self) -> None:
        """Stop the playback thread and save what is unsaved (app quitting, tests)."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.audio.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.editor.shutdown()   # cancels a running export, saves what is unsaved

    # -- edit changes -------------------------------------------------------------------------------
    def _asset_durations(self) -> dict[str, int]:
        return {a.id: a.duration_us for a in self.assets.values()}

    def _refresh_views(self) -> None:
        edit = self.session.edit
        self.timeline.set_edit(edit, self._asset_durations())
        self._show_inspector()
        self._update_time_label()

    def _on_edit_changed(self) -> None:
        from studio.editor.preview import preview_size

        edit = self.session.edit
        self.viewport.set_canvas_size(preview_size(edit))
        if self.selection[1] and self._item(*self.selection) is None:
            self._select("", "")
        self._refresh_views()
        self.viewport.set_message("" if edit.clips else "This draft has no clips.")
        if self.worker is not None:
            self.worker.set_edit(edit, self.assets)
        self._update_save_state()

    def _update_save_state(self) -> None:
        """"Edited" while the document differs from what was last saved (undoing back to it clears it)."""
        if self.session is None:
            return
        edited = self._saved_doc is None or self.session.edit.to_dict() != self._saved_doc
        self.save_label.setText("Edited" if edited else "Saved")

    def _on_saved(self, revision: int) -> None:
        if self.session is not None and not self.session.dirty and not self.session.saving:
            self._saved_doc = self.session.edit.to_dict()   # nothing changed since this save started
        self._update_save_state()

    def _on_save_failed(self, message: str) -> None:
        self.save_label.setText(f"Not saved: {message}")

    def _item(self, kind: str, item_id: str):  # noqa: ANN202
        if self.session is None or not item_id:
            return None
        edit = self.session.edit
        pool = {"clip": edit.clips, "text": edit.texts, "sticker": edit.stickers, "music": edit.music}.get(kind, [])
        return next((i for i in pool if i.id == item_id), None)

    def _do(self, command, *args, **kwargs):  # noqa: ANN001, ANN202
        """Push an editor-core command; an invalid change is explained, never raised."""
        if self.session is None:
            return None
        return self._explained(self.session.do, command, *args, **kwargs)

    def _explained(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        """``fn(...)``, or None with the reason in the status line when the change is invalid."""
        from studio.editor.document import EditError

        try:
            return fn(*args, **kwargs)
        except EditError as e:
            self.save_label.setText(str(e))
            return None

    def _end_drag(self) -> None:
        if self.session is not None:
            self.session.end_drag()
        self._resize_origin.clear()

    # -- selection ------------------------------------------------------------------------------------
    def _select(self, kind: str, item_id: str) -> None:
        self.selection = (kind, item_id) if item_id else ("", "")
        self.timeline.select(*self.selection)
        self.viewport.set_selected(item_id if kind in ("text", "sticker") else "")
        self._show_inspector()
        self._update_tools()

    def _update_tools(self) -> None:
        """The toolbar offers what applies: Split with the playhead inside a clip, Delete and
        Duplicate with something selected (music cannot be duplicated)."""
        edit = self.session.edit if self.session is not None else None
        t = self.timeline.position_us
        kind = self.selection[0] if self._item(*self.selection) is not None else ""
        self.split_button.setEnabled(edit is not None and any(a < t < b for _c, a, b in edit.clip_ranges()))
        self.delete_button.setEnabled(bool(kind))
        self.duplicate_button.setEnabled(kind in ("clip", "text", "sticker"))

    def _show_inspector(self) -> None:
        kind, item_id = self.selection
        item = self._item(kind, item_id)
        if item is None and self.session is not None:
            kind, item = "reel", self.session.edit   # nothing selected: the reel's own settings
        self.inspector.show_item(kind, item)

    def _on_preview_selected(self, kind: str, item_id: str) -> None:
        self._select(kind, item_id)

    def _on_overlay_activated(self, kind: str, item_id: str) -> None:
        """Double-click on a text: type straight into it."""
        self._select(kind, item_id)
        if kind == "text":
            self._edit_text_field()

    def _edit_text_field(self) -> None:
        """Put the keyboard in the selected text's field, its words selected (typing replaces them)."""
        self._end_drag()
        field = self.inspector.fields["text"]["text"]
        self.inspector.reveal(field)
        field.setFocus(Qt.FocusReason.OtherFocusReason)
        field.selectAll()

    # -- frames from the worker -------------------------------------------------------------------------
    def _on_frame(self, image: QImage, t_us: int, exact: bool) -> None:
        self.viewport.set_frame(image, exact)
        self._update_overlay_visibility(t_us)

    def _on_position(self, t_us: int) -> None:
        self.timeline.set_position(t_us)
        self._update_time_label()

    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if not playing:
            self.rate = 0.0
            self.audio.stop()

    def _on_preview_failed(self, message: str) -> None:
        self.viewport.set_message(f"The preview could not be drawn: {message}")

    def _on_overlays(self, items: list) -> None:
        edit = self.session.edit if self.session else None
        if edit is None:
            return
        kinds = {t.id: "text" for t in edit.texts} | {s.id: "sticker" for s in edit.stickers}
        self._overlay_items = {it.id: it for it in items if it.id in kinds}
        boxes = {it.id: (kinds[it.id], QRectF(it.x, it.y, it.width, it.height)) for it in self._overlay_items.values()}
        self.viewport.set_overlays(boxes, self._visible_ids(self.position_us))
        self._update_safe_zone_warning()

    def _visible_ids(self, t_us: int) -> set[str]:
        if self.session is None:
            return set()
        e = self.session.edit
        return {o.id for o in [*e.texts, *e.stickers] if o.start_us <= t_us < o.end_us}

    def _update_overlay_visibility(self, t_us: int) -> None:
        self.viewport.visible_ids = self._visible_ids(t_us)

    @property
    def position_us(self) -> int:
        return self.worker.position_us if self.worker is not None else 0

    def _update_time_label(self) -> None:
        total = self.session.edit.duration_us if self.session else 0
        self.time_label.setText(f"{_clock(self.timeline.position_us)} / {_clock(total)}")
        self._update_tools()

    # -- transport --------------------------------------------------------------------------------------
    def seek(self, t_us: int, *, exact: bool = True) -> None:
        if self.worker is None:
            return
        self.audio.stop()
        self.worker.seek(t_us, exact=exact)
        self.timeline.set_position(t_us)
        self._update_time_label()

    def _on_timeline_seek(self, t_us: int, finished: bool) -> None:
        self.seek(t_us)

    def toggle_play(self) -> None:
        if self.worker is None:
            return
        if self.rate or self.worker.playing:   # rate: playing was asked for, even if not started yet
            self.pause()
        else:
            self.play(1.0)

    def play(self, rate: float = 1.0) -> None:
        if self.worker is None:
            return
        self.rate = rate
        start = self.timeline.position_us
        self.worker.play(start, rate)
        self._start_sound(start if rate == 1.0 else None)

    def _start_sound(self, start_us: int | None) -> None:
        """Sound with 1× playback, where there is an output device (J/L shuttling stays silent)."""
        from studio.editor.preview import audio_argv, last_frame_us

        self.audio.stop()
        if start_us is None or not self.audio.available or self.session is None:
            return
        edit = self.session.edit
        if start_us >= last_frame_us(edit):
            start_us = 0  # the worker restarts from the top too
        try:
            self.audio.start(audio_argv(edit, self.assets, start_us))
        except Exception as e:  # noqa: BLE001 - the picture plays on; the creator is told why it is silent
            log.warning("sound preview: %s", e)
            self.audio_label.setText(f"Playing without sound: {e}")

    def pause(self) -> None:
        self.audio.stop()
        if self.worker is not None:
            self.rate = 0.0
            self.worker.pause()

    def shuttle(self, direction: int) -> None:
        """J/L: play backwards/forwards; pressing again doubles the speed (up to 4×)."""
        if self.worker is None:
            return
        if self.rate and (self.rate > 0) == (direction > 0):   # already shuttling this way
            rate = max(-4.0, min(4.0, self.rate * 2))
        else:
            rate = float(direction)
        self.play(rate)

    def step(self, frames: int) -> None:
        if self.session is None:
            return
        self.pause()
        frame = US / self.session.edit.canvas.fps
        self.seek(max(0, round(self.timeline.position_us + frames * frame)))

    # -- gestures → commands ------------------------------------------------------------------------------
    def _on_trim(self, clip_id: str, in_us, out_us, finished: bool) -> None:  # noqa: ANN001
        from studio.editor.commands import TrimClip

        self._do(TrimClip, clip_id, in_us=in_us, out_us=out_us, drag=True)
        if finished:
            self._end_drag()

    def _on_music_move(self, music_id: str, start_us: int, finished: bool) -> None:
        from studio.editor.commands import UpdateMusic

        self._do(UpdateMusic, music_id, drag=True, start_us=start_us)
        if finished:
            self._end_drag()

    def _on_overlay_time(self, overlay_id: str, start_us: int, end_us: int, finished: bool) -> None:
        from studio.editor.commands import UpdateOverlay

        self._do(UpdateOverlay, overlay_id, drag=True, start_us=start_us, end_us=end_us)
        if finished:
            self._end_drag()

    def _on_overlay_moved(self, overlay_id: str, x: float, y: float, finished: bool) -> None:
        from studio.editor.commands import UpdateOverlay

        self._do(UpdateOverlay, overlay_id, drag=True, x=round(x, 4), y=round(y, 4))
        if finished:
            self._end_drag()

    def _on_overlay_resized(self, overlay_id: str, factor: float, finished: bool) -> None:
        from studio.editor.commands import UpdateOverlay
        from studio.editor.document import TextOverlay, overlay

        item = overlay(self.session.edit, overlay_id)
        field = "size" if isinstance(item, TextOverlay) else "scale"
        origin = self._resize_origin.setdefault(overlay_id, getattr(item, field))
        lo, hi = TEXT_SIZE_RANGE if field == "size" else STICKER_SCALE_RANGE
        self._do(UpdateOverlay, overlay_id, drag=True, **{field: round(min(hi, max(lo, origin * factor)), 4)})
        if finished:
            self._end_drag()

    def _on_inspector_change(self, kind: str, item_id: str, changes: dict, drag: bool) -> None:
        from studio.editor.commands import UpdateClip, UpdateMusic, UpdateOverlay

        if kind == "reel":
            self._change_reel(changes, drag)
            return
        if kind == "clip" and "source_out_us" in changes:
            clip = self._item("clip", item_id)
            limit = self.assets[clip.asset_id].duration_us if clip and clip.asset_id in self.assets else 0
            if limit:
                changes["source_out_us"] = min(changes["source_out_us"], limit)
        command = {"clip": UpdateClip, "text": UpdateOverlay, "sticker": UpdateOverlay, "music": UpdateMusic}[kind]
        self._do(command, item_id, drag=drag, **changes)

    def _change_reel(self, changes: dict, drag: bool) -> None:
        from studio.editor import commands as c

        if "preset" in changes:
            self._do(c.SetCanvas, changes["preset"])
        elif "caption" in changes:
            self._do(c.SetCaption, changes["caption"], drag=drag)
        else:
            self._do(c.UpdateAudio, drag=drag, **changes)

    def _on_inspector_action(self, action: str, kind: str, item_id: str) -> None:
        from studio.editor import commands as c

        if action == "split" and kind == "clip":
            self._do(c.SplitClip, item_id, self.timeline.position_us)
        elif action == "duplicate" and kind == "clip":
            cmd = self._do(c.DuplicateClip, item_id)
            if cmd is not None and cmd.new_id:
                self._select("clip", cmd.new_id)
        elif action in ("earlier", "later") and kind == "clip":
            index = self.session.edit.clip_index(item_id) + (-1 if action == "earlier" else 1)
            if 0 <= index < len(self.session.edit.clips):
                self._do(c.MoveClip, item_id, index)
        elif action == "delete":
            self.delete_selected()
        elif action == "cover":
            self._do(c.SetCover, time_us=self.timeline.position_us)

    def delete_selected(self) -> None:
        from studio.editor import commands as c

        kind, item_id = self.selection
        if not item_id:
            return
        command = {"clip": c.DeleteClip, "text": c.RemoveOverlay, "sticker": c.RemoveOverlay,
                   "music": c.RemoveMusic}[kind]
        if self._do(command, item_id) is not None:
            self._select("", "")

    def split_at_playhead(self) -> None:
        """Split the clip under the playhead (the selected one, if the playhead is inside it)."""
        from studio.editor.commands import SplitClip

        if self.session is None:
            return
        t = self.timeline.position_us
        inside = [c for c, a, b in self.session.edit.clip_ranges() if a < t < b]
        if not inside:
            self.save_label.setText("Put the playhead inside a clip to split it.")
            return
        kind, item_id = self.selection
        clip = next((c for c in inside if kind == "clip" and c.id == item_id), inside[0])
        if self._do(SplitClip, clip.id, t) is not None:
            self._select("clip", clip.id)

    def duplicate_selected(self) -> None:
        """Duplicate the selected clip (placed after it) or overlay (same time, nudged on the picture)."""
        from studio.editor import commands as c
        from studio.editor.document import TextOverlay

        kind, item_id = self.selection
        item = self._item(kind, item_id)
        if item is None:
            self.save_label.setText("Select a clip, text or sticker to duplicate it.")
            return
        if kind == "clip":
            cmd = self._do(c.DuplicateClip, item_id)
        elif kind in ("text", "sticker"):
            skip = {"id", "start_us", "end_us", "extra", "text" if kind == "text" else "source"}
            style = {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if f.name not in skip}
            style["x"], style["y"] = min(2.0, item.x + 0.04), min(2.0, item.y + 0.04)
            first = item.text if isinstance(item, TextOverlay) else item.source
            command = c.AddText if isinstance(item, TextOverlay) else c.AddSticker
            cmd = self._do(command, first, item.start_us, item.end_us, **style)
        else:
            self.save_label.setText("Music cannot be duplicated; add it again from “Add music…”.")
            return
        if cmd is not None and cmd.new_id:
            self._select(kind, cmd.new_id)

    def show_reel_settings(self) -> None:
        """The reel's own settings (shape, caption, sound, cover), whatever is selected."""
        self._select("", "")

    # -- timeline zoom and snapping -----------------------------------------------------------------
    def set_zoom(self, zoom: float) -> None:
        self.timeline.set_zoom(zoom)
        self._on_zoom_changed(self.timeline.zoom)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.timeline.zoom * factor)

    def _on_zoom_changed(self, zoom: float) -> None:
        import math

        from studio.ui.editor_timeline import MAX_ZOOM

        value = round(100 * math.log(max(zoom, 1.0)) / math.log(MAX_ZOOM))
        if self.zoom_slider.value() != value:
            self.zoom_slider.blockSignals(True)
            self.zoom_slider.setValue(value)
            self.zoom_slider.blockSignals(False)

    def _on_zoom_slider(self, value: int) -> None:
        from studio.ui.editor_timeline import MAX_ZOOM

        self.timeline.set_zoom(MAX_ZOOM ** (value / 100))

    def _set_snapping(self, on: bool) -> None:
        self.timeline.snapping = on

    def undo(self) -> None:
        if self.session is not None:
            self.session.end_drag()
            self.session.stack.undo()

    def redo(self) -> None:
        if self.session is not None:
            self.session.stack.redo()

    # -- adding things ----------------------------------------------------------------------------------
    def add_text(self, text: str = "Your text") -> str | None:
        if self.session is None:
            return None
        cmd = self._explained(self.editor.add_text, text, self.timeline.position_us)
        if cmd is not None:
            self._select("text", cmd.new_id)
            self._edit_text_field()     # the typing that follows goes into the new text
            return cmd.new_id
        return None

    def add_sticker(self, source: str) -> str | None:
        if self.session is None:
            return None
        cmd = self._explained(self.editor.add_sticker, source, self.timeline.position_us)
        if cmd is not None:
            self._select("sticker", cmd.new_id)
            return cmd.new_id
        return None

    def _fill_sticker_menu(self) -> None:
        from studio.editor.overlays import builtin_stickers

        self.sticker_menu.clear()
        for name, path in builtin_stickers().items():
            act = QAction(QIcon(str(path)), name.replace("_", " ").capitalize(), self.sticker_menu)
            act.triggered.connect(lambda _=False, n=name: self.add_sticker(f"builtin:{n}"))
            self.sticker_menu.addAction(act)
        self.sticker_menu.addSeparator()
        own = QAction("Your image…", self.sticker_menu)
        own.triggered.connect(self._choose_sticker_image)
        self.sticker_menu.addAction(own)

    def _choose_sticker_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a sticker image", "", "Images (*.png *.webp *.jpg *.jpeg)")
        if path:
            self.import_asset(Path(path), "image")

    def _choose_music(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose music", "",
                                              "Audio (*.mp3 *.m4a *.aac *.wav *.flac *.ogg *.opus);;All files (*)")
        if path:
            self.import_asset(Path(path), "audio")

    def import_asset(self, file: Path, kind: str) -> None:
        """Copy a music file or sticker image into the library (off the UI thread), then use it."""
        if self.session is None:
            return
        self.save_label.setText(f"Adding “{Path(file).name}”…")
        self.editor.import_media(Path(file), kind)

    def _on_media_imported(self, asset, file: Path) -> None:  # noqa: ANN001 - MediaRef
        if asset.kind == "audio":
            cmd = self._explained(self.editor.add_music, asset.id)
            if cmd is not None:
                self._select("music", cmd.new_id)
        else:
            self.add_sticker(f"asset:{asset.id}")
        self.save_label.setText(f"Added “{Path(file).name}”")

    # -- export -------------------------------------------------------------------------------------------
    def _export_to(self) -> None:
        if self.session is None:
            return
        suggested = str(Path.home() / f"{(self.draft.title or 'reel').replace('/', '-')}.mp4")
        path, _ = QFileDialog.getSaveFileName(self, "Export the reel", suggested, "MP4 video (*.mp4)")
        if path:
            self.export(Path(path) if path.lower().endswith(".mp4") else Path(path + ".mp4"))

    def export(self, out: Path | None = None) -> None:
        """Save the edit and render the revision saved to ``out`` (default: the export folder, under the title)."""
        if self.session is None or self.editor.exporting:
            return
        self.pause()
        self.export_button.setEnabled(False)
        self.export_to_button.setEnabled(False)
        self.export_done.hide()
        if not self.editor.export(out):
            self._export_ended("")

    def _on_export_started(self, _revision: int) -> None:
        self.export_progress.setValue(0)
        self.export_progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.export_label.setText("Exporting…")

    def _on_export_progress(self, fraction: float, eta: float) -> None:
        self.export_progress.setValue(round(fraction * 1000))
        left = f" · about {eta:.0f} s left" if eta >= 0 else ""
        self.export_label.setText(f"Exporting {fraction * 100:.0f} %{left}")

    def _on_export_done(self, result) -> None:  # noqa: ANN001 - ExportResult
        self._export_ended("")
        self.export_done.show_file(str(result.path))

    def _export_ended(self, message: str) -> None:
        self.export_label.setText(message)
        self.export_progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.export_button.setEnabled(True)
        self.export_to_button.setEnabled(True)

    def cancel_export(self) -> None:
        if self.editor.exporting:
            self.cancel_button.setEnabled(False)
            self.export_label.setText("Cancelling…")
            self.editor.cancel_export()
