"""The Drafts page: the tray of saved drafts, newest first.

A thin client of studio.drafts: every read and write runs on a worker (studio.tasks); the page only
shows results, banners and the storage bar. Recovery runs when the store opens (off the UI thread);
its findings (unsaved takes, missing media, recovered files) become banners here.
"""

from __future__ import annotations

import threading
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QFrame, QHBoxLayout, QLabel, QLineEdit, QListView,
                               QMenu, QMessageBox, QProgressBar, QPushButton, QStackedWidget, QVBoxLayout, QWidget)

from studio.capture.decision import save_left_behind
from studio.tasks import run_in_background
from studio.ui.common import Banner, page_header  # noqa: F401 - Banner: its home was here
from studio.ui.drafts_delegate import DraftDelegate
from studio.drafts.store import TRASH_DAYS
from studio.ui.drafts_model import IdRole, DraftsModel, size_text, storage_text
from studio.errors import user_message

log = logging.getLogger(__name__)
VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.mkv *.webm *.avi);;All files (*)"


def _guarded(owner, fn):  # noqa: ANN001, ANN202
    from shiboken6 import isValid

    def call(*args):  # noqa: ANN002
        if isValid(owner):
            fn(*args)
    return call


_gb = size_text


class _ImportProgress(QObject):
    """Batch-import progress (files done, files in all) from the worker thread to the UI thread."""
    progress = Signal(int, int)


class DraftsPage(QWidget):
    navigate = Signal(str, object)
    store_ready = Signal()
    _store_changed = Signal()   # emitted from any thread by the store's listener; handled on the UI thread
    storageMeasured = Signal(dict)   # the drafts' storage figures, each time the footer shows new ones

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.store = None
        self.recovery: dict | None = None
        self._export_job = None   # the running studio.editor.export.ExportJob
        self._import_cancel: threading.Event | None = None
        self.last_import = None   # the ImportReport of the last batch import
        self.setAcceptDrops(True)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 28, 32, 16)
        lay.addWidget(page_header("Drafts", "Everything you saved, newest first. Drafts survive closing the app, "
                                            "crashes and power cuts. Drop video files here to import them."))
        self._build_toolbar(lay)
        self.trash_header = QLabel(f"Trash — drafts are deleted for good after {TRASH_DAYS} days")
        self.trash_header.setObjectName("TrashHeader")
        self.trash_header.setWordWrap(True)
        self.trash_header.hide()
        lay.addWidget(self.trash_header)
        self._build_banners(lay)
        self._build_tray(lay)
        self._build_footer(lay)
        self._build_actions()
        self._update_actions()
        self._show_empty("Opening your drafts…")
        run_in_background(lambda: self.studio.drafts, on_done=self._alive(self._attach),
                          on_error=self._alive(self._store_failed))

    def _build_toolbar(self, lay: QVBoxLayout) -> None:
        bar = QHBoxLayout()
        self.search = QLineEdit(placeholderText="Search drafts by title")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(lambda: self.model.set_filter(search=self.search.text()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        bar.addWidget(self.search, 1)
        self.trash_button = QPushButton("Trash")
        self.trash_button.setCheckable(True)
        self.trash_button.toggled.connect(self._show_trash)
        bar.addWidget(self.trash_button)
        self.empty_trash_button = QPushButton("Empty Trash")
        self.empty_trash_button.clicked.connect(self._confirm_empty_trash)
        self.empty_trash_button.hide()
        bar.addWidget(self.empty_trash_button)
        self.import_button = QPushButton("Import videos…")
        self.import_button.setProperty("accent", True)
        self.import_button.clicked.connect(self._choose_files)
        bar.addWidget(self.import_button)
        lay.addLayout(bar)

    def _build_banners(self, lay: QVBoxLayout) -> None:
        self.takes_banner = Banner("TakesBanner")
        self.message = Banner("MessageBar")
        self.disk_warning = Banner("DiskWarning")
        self.export_bar = QFrame(objectName="ExportBar")
        ex = QHBoxLayout(self.export_bar)
        ex.setContentsMargins(12, 4, 6, 4)
        self.export_label = QLabel()
        self.export_progress = QProgressBar()
        self.export_progress.setRange(0, 1000)
        self.export_cancel_button = QPushButton("Cancel")
        self.export_cancel_button.clicked.connect(self.cancel_export)
        ex.addWidget(self.export_label)
        ex.addWidget(self.export_progress, 1)
        ex.addWidget(self.export_cancel_button)
        self.export_bar.hide()
        from studio.ui.export_done import ExportDoneBar   # "Play" / "Show in folder" after an export

        self.export_done = ExportDoneBar()
        for w in (self.takes_banner, self.disk_warning, self.message, self.export_bar, self.export_done):
            lay.addWidget(w)

    def _build_tray(self, lay: QVBoxLayout) -> None:
        self.model = DraftsModel(self)
        self.model.loaded.connect(self._update_empty_state)
        self.model.failed.connect(lambda text: self.message.show_message(text))
        self.view = QListView()
        self.view.setObjectName("DraftsTray")
        self.view.setViewMode(QListView.IconMode)
        self.view.setResizeMode(QListView.Adjust)
        self.view.setMovement(QListView.Static)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.Batched)
        self.view.setBatchSize(200)
        self.view.setSpacing(4)
        self.view.setWrapping(True)
        self.view.setDragDropMode(QAbstractItemView.NoDragDrop)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditKeyPressed)
        self.delegate = DraftDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.model)
        self.view.setContextMenuPolicy(Qt.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(lambda idx: self.open_in_editor(idx.data(IdRole)))
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

        self.empty = QLabel()
        self.empty.setObjectName("EmptyState")
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        lay.addWidget(self.stack, 1)

    def _build_footer(self, lay: QVBoxLayout) -> None:
        foot = QHBoxLayout()
        self.storage_bar = QProgressBar(objectName="DraftsStorage")
        self.storage_bar.setTextVisible(False)
        self.storage_bar.setFixedHeight(6)
        self.storage_bar.setRange(0, 1000)
        self.storage_text = QLabel("")
        self.storage_text.setObjectName("PageSubtitle")
        foot.addWidget(self.storage_text)
        foot.addWidget(self.storage_bar, 1)
        lay.addLayout(foot)

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, keys, slot in [
            ("open", "Open in editor", [QKeySequence(Qt.Key_Return), QKeySequence(Qt.Key_Enter)],
             lambda: self.open_in_editor(self.current_id())),
            ("rename", "Rename", [QKeySequence(Qt.Key_F2)], self.start_rename),
            ("duplicate", "Duplicate", [QKeySequence("Ctrl+D")], lambda: self.duplicate(self.current_id())),
            ("delete", "Delete", [QKeySequence(QKeySequence.Delete)], lambda: self.delete(self.selected_ids())),
            ("restore", "Restore", [], lambda: self.restore(self.selected_ids())),
            ("purge", "Delete forever…", [QKeySequence("Shift+Delete")],
             lambda: self.confirm_delete_forever(self.selected_ids())),
            ("export", "Export", [QKeySequence("Ctrl+E")], lambda: self.export(self.current_id())),
            ("upload", "Upload", [QKeySequence("Ctrl+U")], lambda: self.upload(self.current_id())),
        ]:
            act = QAction(text, self)
            act.setShortcuts(keys)
            act.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            act.triggered.connect(slot)
            self.view.addAction(act)
            self.actions_by_name[name] = act

    # -- store --------------------------------------------------------------------------------
    def _attach(self, store) -> None:  # noqa: ANN001
        self.store = store
        self.model.attach(store)
        unsubscribe = store.subscribe(_guarded(self, lambda event, ids: self._store_changed.emit()))
        model_detach = self.model.detach
        self.destroyed.connect(lambda *_: (unsubscribe(), model_detach()))
        self._store_changed.connect(self.refresh_storage)
        self.show_recovery(store.last_recovery or {})
        self.refresh_storage()
        self.store_ready.emit()

    def _store_failed(self, exc: BaseException) -> None:
        text = user_message(exc)
        self._show_empty(f"Your drafts cannot be opened.\n\n{text}")
        self.import_button.setEnabled(False)

    def activated(self, payload: object = None) -> None:
        if self.store is not None:
            self.model.reload()
            self.refresh_storage()

    def show_recovery(self, report: dict) -> None:
        self.recovery = report
        takes = report.get("unsaved_takes") or []
        if takes:
            n = len(takes)
            self.takes_banner.show_message(
                f"Unsaved takes found: {n} recording{'s' if n > 1 else ''} from an earlier session "
                f"{'were' if n > 1 else 'was'} never saved.",
                ("Save as drafts", self.save_unsaved_takes), ("Discard…", self._confirm_discard_takes))
        notes = []
        if report.get("missing"):
            notes.append(f"{len(report['missing'])} media file(s) are missing; their drafts are kept and marked.")
        if report.get("recovered_draft"):
            notes.append(f"{len(report.get('recovered_files', []))} media file(s) without a draft were put into "
                         "a draft called “Recovered”.")
        if notes:
            self.message.show_message(" ".join(notes))

    def save_unsaved_takes(self) -> None:
        take_dirs = [Path(t["dir"]) for t in (self.recovery or {}).get("unsaved_takes") or []]
        store = self.store
        run_in_background(lambda: save_left_behind(store, take_dirs),
                          on_done=self._alive(lambda n: self.message.show_message(f"Saved {n} take(s) as drafts.")),
                          on_error=self._alive(self._show_error))

    def _confirm_discard_takes(self) -> None:
        box = QMessageBox(QMessageBox.Warning, "Discard unsaved takes?",
                          "These recordings will be deleted for good.", QMessageBox.Discard | QMessageBox.Cancel, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda result: self.discard_unsaved_takes() if result == QMessageBox.Discard else None)
        box.open()

    def discard_unsaved_takes(self) -> None:
        takes = list((self.recovery or {}).get("unsaved_takes") or [])
        store = self.store
        run_in_background(lambda: [store.discard_take(Path(t["dir"])) for t in takes],
                          on_done=self._alive(lambda _r: self.message.show_message(f"Discarded {len(takes)} take(s).")),
                          on_error=self._alive(self._show_error))
        if self.recovery is not None:
            self.recovery["unsaved_takes"] = []

    def refresh_storage(self) -> None:
        if self.store is None:
            return
        run_in_background(self.store.storage, on_done=self._alive(self._show_storage),
                          on_error=self._alive(lambda e: log.warning("drafts storage: %s", e)))

    def _show_storage(self, s: dict) -> None:
        used, free = s["media_bytes"], s["free_bytes"]
        self.storage_text.setText(storage_text(s))
        self.storageMeasured.emit(s)
        self.storage_bar.setValue(int(1000 * used / max(1, used + free)))
        if s["at_risk"]:
            self.disk_warning.show_message(
                f"Only {_gb(free)} free on this disk: new recordings and saves may not fit. "
                "Empty the Trash or free some space to keep your drafts safe.", ("Show Trash", self._open_trash))
        else:
            self.disk_warning.hide()

    # -- selection and actions ----------------------------------------------------------------
    def current_id(self) -> str | None:
        idx = self.view.currentIndex()
        if not idx.isValid():
            sel = self.view.selectionModel().selectedIndexes()
            idx = sel[0] if sel else idx
        return idx.data(IdRole) if idx.isValid() else None

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        return [self.model.draft_at(r).id for r in rows if self.model.draft_at(r) is not None]

    def select_ids(self, ids: list[str]) -> None:
        from PySide6.QtCore import QItemSelectionModel

        sm = self.view.selectionModel()
        sm.clearSelection()
        for i, draft_id in enumerate(ids):
            row = self.model.row_of(draft_id)
            if row >= 0:
                flags = QItemSelectionModel.Select | (QItemSelectionModel.Current if i == 0 else QItemSelectionModel.NoUpdate)
                sm.setCurrentIndex(self.model.index(row), flags) if i == 0 else sm.select(self.model.index(row), flags)

    def _update_actions(self) -> None:
        ids = self.selected_ids() if self.view.selectionModel() else []
        one, trash = len(ids) == 1, self.model.trashed
        for name, enabled in (("open", one and not trash), ("rename", one and not trash),
                              ("duplicate", one and not trash), ("delete", bool(ids) and not trash),
                              ("restore", bool(ids) and trash), ("purge", bool(ids) and trash),
                              ("export", one and not trash),
                              ("upload", one and not trash)):
            self.actions_by_name[name].setEnabled(enabled)

    def _context_menu(self, pos) -> None:  # noqa: ANN001
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        if idx.row() not in {i.row() for i in self.view.selectionModel().selectedIndexes()}:
            self.select_ids([idx.data(IdRole)])
        menu = QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        names = ["restore", "purge"] if self.model.trashed else ["open", "rename", "duplicate", "export", "upload", "delete"]
        for name in names:
            if name in ("export", "delete"):
                menu.addSeparator()
            menu.addAction(self.actions_by_name[name])
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def open_in_editor(self, draft_id: str | None) -> None:
        if draft_id:
            self.navigate.emit("editor", draft_id)

    def upload(self, draft_id: str | None) -> None:
        if draft_id:
            self.navigate.emit("uploads", {"draft_id": draft_id})

    def start_rename(self) -> None:
        idx = self.view.currentIndex()
        if idx.isValid():
            self.view.edit(idx)

    def duplicate(self, draft_id: str | None) -> None:
        if draft_id and self.store is not None:
            run_in_background(self.store.duplicate, draft_id,
                              on_done=self._alive(lambda d: self.message.show_message(f"Duplicated as “{d.title}”.")),
                              on_error=self._alive(self._show_error))

    def delete(self, ids: list[str]) -> None:
        """Move to the Trash at once, with an Undo that restores them."""
        if not ids or self.store is None:
            return
        ids = list(ids)
        n = len(ids)
        run_in_background(self.store.delete, ids, on_error=self._alive(self._show_error),
                          on_done=self._alive(lambda _n: self.message.show_message(
                              f"{n} draft{'s' if n > 1 else ''} moved to the Trash.", ("Undo", lambda: self.restore(ids)))))

    def restore(self, ids: list[str]) -> None:
        if ids and self.store is not None:
            n = len(ids)
            run_in_background(self.store.restore, list(ids), on_error=self._alive(self._show_error),
                              on_done=self._alive(lambda _n: self.message.show_message(
                                  f"{n} draft{'s' if n > 1 else ''} restored.") if self.model.trashed else None))

    def confirm_delete_forever(self, ids: list[str]) -> None:
        """Ask first (this cannot be undone), then delete those drafts of the Trash for good."""
        if not ids or self.store is None or not self.model.trashed:
            return
        ids = list(ids)
        d = self.model.draft_at(self.model.row_of(ids[0]))
        what = f"“{d.title}”" if len(ids) == 1 and d is not None else f"these {len(ids)} drafts"
        box = QMessageBox(QMessageBox.Warning, "Delete forever?",
                          f"Delete {what} forever? Its media is deleted too, unless another draft uses it. "
                          "This cannot be undone.", QMessageBox.Cancel, self)
        box.setObjectName("DeleteForeverBox")
        forever = box.addButton("Delete forever", QMessageBox.DestructiveRole)
        box.setDefaultButton(QMessageBox.Cancel)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda b: self.delete_forever(ids) if b is forever else None)
        box.open()

    def delete_forever(self, ids: list[str]) -> None:
        if ids and self.store is not None:
            run_in_background(self.store.purge, draft_ids=list(ids), older_than_days=None,
                              on_error=self._alive(self._show_error),
                              on_done=self._alive(lambda r: self.message.show_message(
                                  f"Deleted {r['drafts']} draft{'s' if r['drafts'] != 1 else ''} for good, "
                                  f"freeing {_gb(r['bytes'])}.")))

    def _show_trash(self, on: bool) -> None:
        self.empty_trash_button.setVisible(on)
        self.trash_header.setVisible(on)
        self.model.set_filter(trashed=on)
        self._update_actions()

    def _open_trash(self) -> None:
        self.trash_button.setChecked(True)

    def _confirm_empty_trash(self) -> None:
        box = QMessageBox(QMessageBox.Warning, "Empty the Trash?", "Drafts in the Trash will be deleted for good.",
                          QMessageBox.Yes | QMessageBox.Cancel, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda r: self.empty_trash() if r == QMessageBox.Yes else None)
        box.open()

    def empty_trash(self) -> None:
        if self.store is not None:
            run_in_background(self.store.purge, older_than_days=None, on_error=self._alive(self._show_error),
                              on_done=self._alive(lambda r: self.message.show_message(
                                  f"Deleted {r['drafts']} draft(s) for good, freeing {_gb(r['bytes'])}.")))

    # -- export ------------------------------------------------------------------------------
    def export(self, draft_id: str | None) -> None:
        """Export into the Videos (or chosen) folder under the draft's title, never over an existing file."""
        if not draft_id:
            return
        if self._export_job is not None:
            self.message.show_message("An export is already running; wait for it or cancel it.")
            return
        from studio.editor.export import ExportJob

        job = ExportJob(self.studio, draft_id, parent=self)
        job.progress.connect(self._export_progress)
        job.finished.connect(self._export_done)
        job.failed.connect(self._export_failed)
        job.cancelled.connect(self._export_cancelled)
        self._export_job = job
        self.export_label.setText("Exporting…")
        self.export_progress.setValue(0)
        self.export_bar.show()
        job.start()

    def _export_progress(self, fraction: float, eta: float) -> None:
        self.export_progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.export_label.setText(f"Exporting… {fraction:.0%}" + (f" ({int(eta)} s left)" if eta >= 0 else ""))

    def cancel_export(self) -> None:
        if self._export_job is not None:
            self._export_job.cancel()
            self.export_label.setText("Cancelling…")

    def _export_ended(self) -> None:
        self._export_job = None
        self.export_bar.hide()

    def _export_done(self, result) -> None:  # noqa: ANN001 - ExportResult
        self._export_ended()
        self.export_done.show_file(str(result.path))

    def _export_failed(self, exc: BaseException) -> None:
        self._export_ended()
        self._show_error(exc)

    def _export_cancelled(self) -> None:
        self._export_ended()
        self.message.show_message("The export was cancelled.")

    # -- import (button and drag-and-drop) -----------------------------------------------------
    def _choose_files(self) -> None:
        dlg = QFileDialog(self, "Import videos", str(Path.home()), VIDEO_FILTER)
        dlg.setFileMode(QFileDialog.ExistingFiles)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.filesSelected.connect(lambda files: self.import_files([Path(f) for f in files]))
        dlg.open()

    def import_files(self, files: list[Path]) -> None:
        """Import off the UI thread, one draft per file; good files are kept, each refused one is named
        with its reason ("3 drafts imported; 2 files refused: …"). Cancel stops before the next file."""
        if not files or self.store is None:
            return
        if self._import_cancel is not None:
            self.message.show_message("An import is already running; wait for it or cancel it.")
            return
        files = list(files)
        cancel = self._import_cancel = threading.Event()
        relay = _ImportProgress(self)
        relay.progress.connect(lambda done, total: self._import_progress(done, total))
        self._import_progress(0, len(files))
        run_in_background(self.store.import_batch, files, on_progress=relay.progress.emit, cancel=cancel,
                          on_error=self._alive(self._import_failed), on_done=self._alive(self._import_done))

    def _import_progress(self, done: int, total: int) -> None:
        if self._import_cancel is None:
            return
        text = f"Importing {total} file{'s' if total != 1 else ''}…" if done == 0 else \
            f"Importing… {done} of {total} file{'s' if total != 1 else ''} done"
        self.message.show_message(text, ("Cancel", self.cancel_import))

    def cancel_import(self) -> None:
        if self._import_cancel is not None:
            self._import_cancel.set()

    def _import_done(self, report) -> None:  # noqa: ANN001 - studio.drafts.store.ImportReport
        self._import_cancel = None
        self.last_import = report
        self.message.show_message(report.summary())
        if report.drafts:
            if self.model.trashed:
                self.trash_button.setChecked(False)
            ids = [d.id for d in report.drafts]
            QTimer.singleShot(300, self._alive(lambda: self.select_ids(ids)))

    def _import_failed(self, exc: BaseException) -> None:
        self._import_cancel = None
        self._show_error(exc)

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.import_files(files)

    # -- helpers -----------------------------------------------------------------------------
    def _alive(self, fn):  # noqa: ANN001, ANN202
        """A callback that does nothing once this page is gone (workers can outlive it)."""
        return _guarded(self, fn)

    def show_notice(self, text: str) -> None:
        """A sentence in the page's message bar (e.g. why a draft asked for could not be opened)."""
        self.message.show_message(text)

    def _show_error(self, exc: BaseException) -> None:
        text = user_message(exc)
        log.info("drafts page: %s", text)
        self.message.show_message(text)

    def _show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def _update_empty_state(self) -> None:
        self._update_actions()
        if self.model.rowCount() > 0:
            self.stack.setCurrentWidget(self.view)
            return
        if self.model.trashed:
            self._show_empty("The Trash is empty.")
        elif self.model.search.strip():
            self._show_empty(f"No drafts match “{self.model.search.strip()}”.")
        else:
            self._show_empty("No drafts yet.\n\nRecord a take, or drop video files here to import them.")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(960, 700)
