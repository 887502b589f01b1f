"""The Editor page: preview, timeline, inspector, overlays on the picture, undo, export.

The page is a thin client: every change is an editor-core command pushed on the draft's
``EditSession`` (undo/redo, autosave); frames come from the ``PlaybackWorker`` thread; media work
(loading the draft, thumbnails, waveforms, importing music or a sticker image) runs through
``run_in_background``; exports run in editor-core's ``ExportJob``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import shiboken6

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton,
                               QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from studio.ui.common import page_header
from studio.ui.editor_inspector import Inspector
from studio.ui.editor_timeline import Timeline
from studio.ui.editor_viewport import PreviewViewport

log = logging.getLogger(__name__)
US = 1_000_000
THUMB_H = 48


def _clock(us: int) -> str:
    s = max(0, us) / US
    return f"{int(s // 60)}:{s % 60:05.2f}"


def _load_draft(studio, draft_id: str):  # noqa: ANN001 - runs off the UI thread
    from studio.editor.document import Edit
    from studio.editor.preview import assets_for

    draft = studio.drafts.get(draft_id)
    edit = Edit.from_dict(draft.edit)
    return draft, edit, assets_for(draft, studio.drafts.asset_path)


def _thumbnails(path: Path, rotation: int, duration_us: int, height: int) -> dict[int, QImage]:
    """Thumbnails along a video (about one a second, at most 40), decoded in-process."""
    from studio.editor.playback import to_qimage
    from studio.media.decoder import VideoDecoder

    out: dict[int, QImage] = {}
    with VideoDecoder(path, rotation=rotation) as dec:
        w, h = dec.display_size
        size = (max(2, round(w * height / max(h, 1)) // 2 * 2), height)
        step = max(US, duration_us // 40) if duration_us else US
        t = 0
        while t < max(duration_us, 1):
            out[t] = to_qimage(dec.frame_at(t, size=size))
            t += step
    return out


class EditorPage(QWidget):
    navigate = Signal(str, object)

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.draft = None
        self.session = None
        self.worker = None
        self.assets: dict = {}
        self.export_job = None
        self.selection: tuple[str, str] = ("", "")
        self.rate = 0.0
        self._resize_origin: dict[str, float] = {}
        self._overlay_items: dict = {}
        self._closed = False
        from studio.editor.playback import AudioFeed

        self.audio = AudioFeed(self)
        self._pending_export: Path | None | bool = False
        self._loading_id: str | None = None
        self._build()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

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
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("PlayButton")
        self.play_button.setToolTip("Play / pause (Space); J K L shuttle; ← → one frame")
        self.play_button.clicked.connect(self.toggle_play)
        self.time_label = QLabel("0:00.00 / 0:00.00")
        self.audio_label = QLabel("")
        self.audio_label.setObjectName("PageSubtitle")
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.time_label)
        transport.addStretch(1)
        transport.addWidget(self.audio_label)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(self.viewport, 1)
        left_lay.addLayout(transport)

        self.inspector = Inspector()
        self.inspector.changeRequested.connect(self._on_inspector_change)
        self.inspector.dragFinished.connect(self._end_drag)
        self.inspector.actionRequested.connect(self._on_inspector_action)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.inspector)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        self.timeline = Timeline()
        self.timeline.seekRequested.connect(self._on_timeline_seek)
        self.timeline.selectionChanged.connect(self._select)
        self.timeline.trimRequested.connect(self._on_trim)
        self.timeline.musicMoveRequested.connect(self._on_music_move)
        self.timeline.overlayTimeRequested.connect(self._on_overlay_time)
        lay.addWidget(self.timeline)
        lay.addLayout(self._build_export_bar())
        return box

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
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.redo_button = QPushButton("Redo")
        self.redo_button.setToolTip("Redo (Ctrl+Shift+Z)")
        self.redo_button.clicked.connect(self.redo)
        self.save_label = QLabel("")
        self.save_label.setObjectName("PageSubtitle")
        self.export_button = QPushButton("Export")
        self.export_button.setProperty("accent", True)
        self.export_button.setToolTip("Render the reel to an MP4 ready to upload")
        self.export_button.clicked.connect(lambda: self.export())
        self.export_to_button = QPushButton("Export to…")
        self.export_to_button.clicked.connect(self._export_to)
        for w in (self.title_label, self.add_text_button, self.add_sticker_button, self.add_music_button,
                  self.undo_button, self.redo_button):
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
        keys = [("Space", self.toggle_play), ("Left", lambda: self.step(-1)), ("Right", lambda: self.step(1)),
                ("J", lambda: self.shuttle(-1)), ("K", self.pause), ("L", lambda: self.shuttle(1)),
                (QKeySequence.StandardKey.Undo, self.undo), ("Ctrl+Shift+Z", self.redo),
                (QKeySequence.StandardKey.Redo, self.redo), ("Delete", self.delete_selected)]
        self.shortcuts = []
        for key, slot in keys:
            sc = QShortcut(QKeySequence(key), self)
            # the whole window while the editor is the page shown (hidden pages' shortcuts never fire),
            # so Space plays even when the sidebar has the focus; text fields still get their keys
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)
            self.shortcuts.append(sc)

    # -- opening a draft ----------------------------------------------------------------------------
    def activated(self, payload: object = None) -> None:
        """Shown by the main window; ``payload`` is a draft id to open (None keeps what is open)."""
        draft_id = payload if isinstance(payload, str) else None
        if draft_id is None:
            if self.session is None and self._loading_id is None:
                self.pages.setCurrentWidget(self.empty)
            return
        if (self.session is not None and self.session.draft_id == draft_id) or self._loading_id == draft_id:
            return
        self.open_draft(draft_id)

    def open_draft(self, draft_id: str) -> None:
        from studio.tasks import run_in_background

        self._close_session()
        self._loading_id = draft_id
        self.pages.setCurrentWidget(self.loading)
        run_in_background(_load_draft, self.studio, draft_id,
                          on_done=self._live(lambda r, d=draft_id: self._opened(d, r)),
                          on_error=self._live(lambda e, d=draft_id: self._open_failed(d, e)))

    def _open_failed(self, draft_id: str, exc: BaseException) -> None:
        if self._loading_id != draft_id:
            return
        self._loading_id = None
        message = getattr(exc, "message", None) or getattr(exc, "user_message", None) or str(exc)
        self.empty_note.setText(f"This draft could not be opened: {message}")
        self.pages.setCurrentWidget(self.empty)

    def _opened(self, draft_id: str, result) -> None:  # noqa: ANN001
        from studio.editor.commands import EditSession
        from studio.editor.playback import PlaybackWorker
        from studio.editor.preview import PreviewCompositor

        if self._loading_id != draft_id:
            return  # another draft was asked for meanwhile
        self._loading_id = None
        draft, edit, assets = result
        self.draft, self.assets = draft, assets
        self.session = EditSession(self.studio.drafts, draft.id, edit, draft.revision, parent=self)
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
        self.save_label.setText("")
        self.export_label.setText("")
        self.viewport.set_message("" if edit.clips else "This draft has no clips.")
        self._select("", "")
        self._refresh_views()
        self.pages.setCurrentWidget(self.workspace)
        self.worker.seek(0)
        self._load_media_previews()
        self.setFocus()

    def _live(self, fn):  # noqa: ANN001, ANN202
        """Wrap a background callback so it is dropped if this page's session ended meanwhile."""
        session = self.session

        def call(*args):  # noqa: ANN002, ANN202
            if shiboken6.isValid(self) and not self._closed and session is self.session:
                return fn(*args)
            return None
        return call

    def _load_media_previews(self) -> None:
        from studio.tasks import run_in_background

        for a in self.assets.values():
            if a.kind == "video":
                run_in_background(_thumbnails, a.path, a.rotation, a.duration_us, THUMB_H,
                                  on_done=self._live(lambda t, aid=a.id: self.timeline.set_thumbnails(aid, t)),
                                  on_error=lambda e: log.info("thumbnails: %s", e))
        for m in self.session.edit.music:
            self._load_waveform(m.asset_id)

    def _load_waveform(self, asset_id: str) -> None:
        from studio.media import waveform
        from studio.tasks import run_in_background

        asset = self.assets.get(asset_id)
        if asset is None or asset_id in self.timeline.waveforms:
            return
        run_in_background(waveform.peaks, asset.path, per_second=50, cache_dir=self.studio.layout.thumbs,
                          on_done=self._live(lambda p: self.timeline.set_waveform(asset_id, p)),
                          on_error=lambda e: log.info("waveform: %s", e))

    def _close_session(self) -> None:
        self.audio.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.session is not None:
            session = self.session
            if session.dirty:
                session.save_soon_now()  # in the background; the session lives until it reports
            session.changed.disconnect(self._on_edit_changed)
            self.session = None
        self.timeline.thumbs.clear()
        self.timeline.waveforms.clear()

    def shutdown(self) -> None:
        """Stop the playback thread and save what is unsaved (app quitting, tests)."""
        self._closed = True
        self.audio.stop()
        if self.export_job is not None and self.export_job.is_running():
            self.export_job.cancel()
            self.export_job.wait(10_000)
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.session is not None:
            try:
                self.session.flush()
            except Exception as e:  # noqa: BLE001 - quitting: log, the autosave had the rest
                log.warning("could not save the edit on exit: %s", e)

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
        self.save_label.setText("Edited")

    def _on_saved(self, revision: int) -> None:
        self.save_label.setText("Saved")
        if self._pending_export is not False and not self.session.dirty:
            out, self._pending_export = self._pending_export, False
            self._start_export(out)

    def _on_save_failed(self, message: str) -> None:
        self.save_label.setText(f"Not saved: {message}")
        if self._pending_export is not False:
            self._pending_export = False
            self._export_ended(f"Not exported: the edit could not be saved ({message}).")

    def _item(self, kind: str, item_id: str):  # noqa: ANN202
        if self.session is None or not item_id:
            return None
        edit = self.session.edit
        pool = {"clip": edit.clips, "text": edit.texts, "sticker": edit.stickers, "music": edit.music}.get(kind, [])
        return next((i for i in pool if i.id == item_id), None)

    def _do(self, command, *args, **kwargs):  # noqa: ANN001, ANN202
        """Push an editor-core command; an invalid change is explained, never raised."""
        from studio.editor.document import EditError

        if self.session is None:
            return None
        try:
            return self.session.do(command, *args, **kwargs)
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
            field = self.inspector.fields["text"]["text"]
            field.setFocus()
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
        lo, hi = (0.005, 0.5) if field == "size" else (0.01, 4.0)
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

    def undo(self) -> None:
        if self.session is not None:
            self.session.end_drag()
            self.session.stack.undo()

    def redo(self) -> None:
        if self.session is not None:
            self.session.stack.redo()

    # -- adding things ----------------------------------------------------------------------------------
    def _overlay_span(self) -> tuple[int, int]:
        total = self.session.edit.duration_us
        start = min(self.timeline.position_us, max(0, total - US))
        return start, max(start + US, min(total, start + 3 * US))

    def add_text(self, text: str = "Your text") -> str | None:
        from studio.editor.commands import AddText

        if self.session is None:
            return None
        start, end = self._overlay_span()
        cmd = self._do(AddText, text, start, end, background="#000000A0")
        if cmd is not None:
            self._select("text", cmd.new_id)
            return cmd.new_id
        return None

    def add_sticker(self, source: str) -> str | None:
        from studio.editor.commands import AddSticker

        if self.session is None:
            return None
        start, end = self._overlay_span()
        cmd = self._do(AddSticker, source, start, end, x=0.72, y=0.3)   # clear of a centred text
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
        from studio.editor.preview import PreviewAsset
        from studio.tasks import run_in_background

        if self.session is None:
            return
        draft_id = self.session.draft_id
        store = self.studio.drafts

        def add():  # noqa: ANN202 - runs in the pool
            asset = store.add_asset(draft_id, file, kind=kind)
            return PreviewAsset(id=asset.id, path=Path(store.asset_path(asset)), kind=asset.kind,
                                rotation=int(asset.rotation or 0), width=int(asset.width or 0),
                                height=int(asset.height or 0), fps=float(asset.fps or 0),
                                duration_us=int(asset.duration_us or 0), has_audio=bool(asset.has_audio))

        def added(asset) -> None:  # noqa: ANN001
            if self.session is None or self.session.draft_id != draft_id:
                return
            self.assets[asset.id] = asset
            if kind == "audio":
                from studio.editor.commands import AddMusic

                cmd = self._do(AddMusic, asset.id, 0)
                self._load_waveform(asset.id)
                if cmd is not None:
                    self._select("music", cmd.new_id)
            else:
                self.add_sticker(f"asset:{asset.id}")
            self.save_label.setText(f"Added “{file.name}”")

        self.save_label.setText(f"Adding “{file.name}”…")
        run_in_background(add, on_done=self._live(added),
                          on_error=self._live(lambda e: self.save_label.setText(
                              f"“{file.name}” could not be added: {getattr(e, 'user_message', None) or e}")))

    # -- export -------------------------------------------------------------------------------------------
    def _export_to(self) -> None:
        if self.session is None:
            return
        suggested = str(Path.home() / f"{(self.draft.title or 'reel').replace('/', '-')}.mp4")
        path, _ = QFileDialog.getSaveFileName(self, "Export the reel", suggested, "MP4 video (*.mp4)")
        if path:
            self.export(Path(path) if path.lower().endswith(".mp4") else Path(path + ".mp4"))

    def export(self, out: Path | None = None) -> None:
        """Save the edit (in the background) and render it to ``out`` (default: cache/staging)."""
        if self.session is None or (self.export_job is not None and self.export_job.is_running()):
            return
        self.pause()
        self.export_button.setEnabled(False)
        self.export_to_button.setEnabled(False)
        self.export_label.setText("Saving the edit…")
        if self.session.dirty or self.session.saving:
            self._pending_export = out
            self.session.save_soon_now()
        else:
            self._start_export(out)

    def _start_export(self, out: Path | None) -> None:
        from studio.editor.export import ExportJob

        job = ExportJob(self.studio, self.session.draft_id, out, parent=self)
        job.progress.connect(self._on_export_progress)
        job.finished.connect(self._on_export_done)
        job.failed.connect(lambda m: self._export_ended(f"Export failed: {m}"))
        job.cancelled.connect(lambda: self._export_ended("Export cancelled."))
        self.export_job = job
        self.export_progress.setValue(0)
        self.export_progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.export_label.setText("Exporting…")
        self.export_done.hide()
        job.start()

    def _on_export_progress(self, fraction: float, eta: float) -> None:
        self.export_progress.setValue(round(fraction * 1000))
        left = f" · about {eta:.0f} s left" if eta >= 0 else ""
        self.export_label.setText(f"Exporting {fraction * 100:.0f} %{left}")

    def _on_export_done(self, path: str) -> None:
        self._export_ended("")
        self.export_done.show_file(path)

    def _export_ended(self, message: str) -> None:
        self.export_label.setText(message)
        self.export_progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.export_button.setEnabled(True)
        self.export_to_button.setEnabled(True)
        job = self.export_job
        if job is not None:
            QTimer.singleShot(0, lambda: job.wait(5000))

    def cancel_export(self) -> None:
        if self.export_job is not None:
            self.cancel_button.setEnabled(False)
            self.export_label.setText("Cancelling…")
            self.export_job.cancel()
