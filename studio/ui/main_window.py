"""The main window: sidebar with four pages, status bar, menus, About and Settings."""

from __future__ import annotations

import importlib
import logging
import sys

from PySide6 import QtCore
from PySide6.QtCore import QEvent, QSize, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QStackedWidget,
                               QVBoxLayout, QWidget)

from studio import APP_NAME
from studio.ui import theme
from studio.ui.firstframe import USER_ROLE

log = logging.getLogger(__name__)

# (key, label, module, class) — pages are built the first time they are shown, so start-up stays cheap.
PAGES = [
    ("record", "Record", "studio.ui.pages.record", "RecordPage"),
    ("drafts", "Drafts", "studio.ui.pages.drafts", "DraftsPage"),
    ("editor", "Editor", "studio.ui.pages.editor", "EditorPage"),
    ("uploads", "Uploads", "studio.ui.pages.uploads", "UploadsPage"),
]
# Pages whose modules load only Qt and light services (tests/test_startup.py holds them to it): when the
# app opens on one, it is built before the window shows, so the first frame is the real page; its
# devices and data come after that paint. The others load their module off the UI thread first.
FIRST_FRAME_PAGES = ("record",)


class MainWindow(QMainWindow):
    """The shell. ``after_first_paint=True`` (the app's start) leaves the status bar's services for
    the first turn after the window's first paint, so the window shows before anything else loads;
    windows made in tests and tools get them on the first event-loop turn, shown or not."""

    pageChanged = Signal(str)
    draftOpened = Signal(str)    # the draft shown in the editor (remembered for the next start)
    firstPainted = Signal()      # once: the window has painted itself (deferred work)
    contentPainted = Signal()    # once: the window has painted with a real page on it, not a placeholder
    closing = Signal()           # the window begins to close (the exit probe)

    def __init__(self, studio, parent: QWidget | None = None, *, after_first_paint: bool = False):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self._painted = False
        self._content_painted = False
        self._loading: dict[str, object] = {}   # page key -> payload, while its module loads off the UI thread
        self._when_built: dict[str, list] = {}   # page key -> callbacks waiting for the page to exist
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(theme.icon("app"))
        self.resize(1280, 820)
        self.setMinimumSize(QSize(960, 640))
        self._pages: dict[str, QWidget] = {}

        self.sidebar = QListWidget(objectName="Sidebar")
        self.sidebar.setFixedWidth(184)
        self.sidebar.setIconSize(QSize(20, 20))
        self.stack = QStackedWidget()
        for i, (key, label, _mod, _cls) in enumerate(PAGES):
            item = QListWidgetItem(theme.icon(key), f"  {label}")
            item.setData(USER_ROLE, key)
            item.setToolTip(f"{label} (Ctrl+{i + 1})")
            self.sidebar.addItem(item)
            self.stack.addWidget(QWidget())  # replaced by the real page on first show
        self.sidebar.currentRowChanged.connect(lambda row: self.show_page(PAGES[row][0]))

        brand = QLabel(APP_NAME, objectName="Brand")
        side = QWidget()
        side.setObjectName("Sidebar")
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.setSpacing(0)
        side_lay.addWidget(brand)
        side_lay.addWidget(self.sidebar, 1)

        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(side)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.storage_label = QLabel("")
        self.uploads_label = QLabel("No uploads")
        self.storage_label.setObjectName("StorageStatus")
        self.uploads_label.setObjectName("UploadStatus")
        self.activity_label = QLabel("", objectName="ActivityStatus")
        self.activity_label.hide()
        self.statusBar().addPermanentWidget(self.activity_label)
        self.statusBar().addPermanentWidget(self.storage_label)
        self.statusBar().addPermanentWidget(self.uploads_label)
        self._build_menus()
        self.installEventFilter(self)
        if after_first_paint:
            self.firstPainted.connect(lambda: QTimer.singleShot(0, self._start_services))
        else:
            QTimer.singleShot(0, self._start_services)

    def _start_services(self) -> None:
        self.refresh_storage()
        self.wire_uploads()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802, ANN001 - Qt override
        if obj is self and not self._painted and event.type() == QEvent.Paint:
            self._painted = True
            self.removeEventFilter(self)
            # Its children paint in the same pass: the page on screen now is in this frame.
            real = self.stack.currentWidget() in self._pages.values()
            QTimer.singleShot(0, lambda: self._emit_painted(real))   # after this paint has reached the screen
        return False

    def _emit_painted(self, with_page: bool) -> None:
        if with_page:
            self._mark_content_painted()
        self.firstPainted.emit()
        self._load_pages()   # the pages asked for before the first paint (show_page_soon)

    def _mark_content_painted(self) -> None:
        if not self._content_painted:
            self._content_painted = True
            self.contentPainted.emit()

    def _page_painted(self, page: QWidget) -> None:
        if self._painted and self.stack.currentWidget() is page:
            self._mark_content_painted()

    # -- pages -------------------------------------------------------------------------------
    def page(self, key: str) -> QWidget:
        """The page widget for ``key``, built on first use."""
        if key not in self._pages:
            index = [p[0] for p in PAGES].index(key)
            _key, _label, module, cls = PAGES[index]
            page = getattr(importlib.import_module(module), cls)(self.studio)
            page.setObjectName(f"{cls}")
            if hasattr(page, "navigate"):
                page.navigate.connect(self.show_page)
            if hasattr(page, "badgeChanged"):   # e.g. "● REC 00:12" while recording from another page
                page.badgeChanged.connect(lambda text, i=index: self._show_badge(i, text))
            if hasattr(page, "storageMeasured"):   # one figure: the footer's new numbers reach the status bar
                page.storageMeasured.connect(self.show_storage)
            if not self._content_painted:   # a page built after a placeholder painted: its own paint counts
                from studio.ui.common import after_first_paint

                after_first_paint(page, lambda p=page: self._page_painted(p))
            old = self.stack.widget(index)
            self.stack.insertWidget(index, page)
            self.stack.removeWidget(old)
            old.deleteLater()
            self._pages[key] = page
            for fn in self._when_built.pop(key, []):
                fn(page)
        return self._pages[key]

    def when_page(self, key: str, fn) -> None:  # noqa: ANN001 - Callable[[QWidget], None]
        """Call ``fn(page)`` once the page ``key`` exists (now, if it does)."""
        if key in self._pages:
            fn(self._pages[key])
        else:
            self._when_built.setdefault(key, []).append(fn)

    def show_first_page(self, key: str, payload: object = None) -> None:
        """The page the app opens on: built now if it is one of FIRST_FRAME_PAGES, else shown by
        ``show_page_soon`` (its place says its title until its module has loaded)."""
        if key in FIRST_FRAME_PAGES:
            self.show_page(key, payload)
        else:
            self.show_page_soon(key, payload)

    def show_page_soon(self, key: str, payload: object = None) -> None:
        """Select ``key`` now and show it once its module has been imported off the UI thread (a page
        brings the capture, drafts or editor services with it: SQLAlchemy, NumPy, PyAV). Its place
        shows the page's title meanwhile; picking another page first simply wins."""
        if key in self._pages:
            self.show_page(key, payload)
            return
        index = [p[0] for p in PAGES].index(key)
        label = PAGES[index][1]
        placeholder = self.stack.widget(index)
        if placeholder.layout() is None:
            from studio.ui.common import page_header

            lay = QVBoxLayout(placeholder)
            lay.setContentsMargins(24, 20, 24, 16)
            lay.addWidget(page_header(label))
            lay.addStretch(1)
        self.stack.setCurrentIndex(index)
        self.sidebar.blockSignals(True)
        self.sidebar.setCurrentRow(index)
        self.sidebar.blockSignals(False)
        self._loading[key] = payload
        self.pageChanged.emit(key)   # it is the page on screen (remembered for the next start) from now on
        if len(self._loading) > 1:
            return
        if self._painted:   # else the import would take the GIL from the first paint: _emit_painted starts it
            self._load_pages()

    def _load_pages(self) -> None:
        """Import the modules of the pages waiting in ``_loading`` off the UI thread, then show the one
        still current."""
        from studio.tasks import run_in_background

        if not self._loading:
            return
        module = PAGES[[p[0] for p in PAGES].index(next(iter(self._loading)))][2]

        def loaded(_mod: object = None) -> None:
            pending = dict(self._loading)
            self._loading.clear()
            current = self.current_page_key()
            for k, p in pending.items():
                if k == current and k not in self._pages:   # still the one on screen: build and show it
                    self.show_page(k, p)

        # An import that fails here fails again, with its traceback, when the page is built on the UI thread.
        run_in_background(importlib.import_module, module, on_done=loaded, on_error=lambda _e: loaded(),
                          owner=self)

    def _show_badge(self, index: int, text: str) -> None:
        item = self.sidebar.item(index)
        label = f"  {PAGES[index][1]}"
        # The sidebar is narrow: a short mark there, the whole text (e.g. the take's time) in the status bar.
        item.setText(f"{label}  {text.split()[0]}" if text else label)
        item.setToolTip(text or label.strip())
        self.activity_label.setText(text)
        self.activity_label.setVisible(bool(text))

    def show_page(self, key: str, payload: object = None) -> QWidget:
        page = self.page(key)
        index = [p[0] for p in PAGES].index(key)
        self.stack.setCurrentIndex(index)
        if self.sidebar.currentRow() != index:
            self.sidebar.blockSignals(True)
            self.sidebar.setCurrentRow(index)
            self.sidebar.blockSignals(False)
        if hasattr(page, "activated"):
            page.activated(payload)
        self.pageChanged.emit(key)
        if key == "editor" and isinstance(payload, str) and payload:
            self.draftOpened.emit(payload)
        return page

    def closeEvent(self, event) -> None:  # noqa: ANN001 - QCloseEvent
        """Pages with workers (recording, playback, uploads) stop them before the window goes."""
        self.closing.emit()
        for page in self._pages.values():
            if hasattr(page, "shutdown"):
                page.shutdown()
        uploads = sys.modules.get("studio.ui.uploads_controller")   # not imported: no upload worker to stop
        if uploads is not None:
            uploads.shutdown_for(self.studio)   # a QThread still running when Python exits aborts the process
        self.save_geometry()
        super().closeEvent(event)

    # -- window size and place, kept between runs ---------------------------------------------
    def restore_geometry(self) -> None:
        from studio.ui.prefs import settings

        saved = settings(self.studio.layout).value("window/geometry")
        if saved is not None and not self.restoreGeometry(saved):
            log.info("saved window geometry ignored (another screen layout)")

    def save_geometry(self) -> None:
        from studio.ui.prefs import settings

        s = settings(self.studio.layout)
        s.setValue("window/geometry", self.saveGeometry())
        s.sync()

    def current_page_key(self) -> str:
        return PAGES[self.stack.currentIndex()][0]

    # -- menus -------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        # Shortcuts go through setShortcuts: setShortcut's overloads make PySide build the Qt namespace
        # for Qt.Key, a cost of the first frame (studio/ui/firstframe.py).
        def action(text: str, slot, keys) -> QAction:  # noqa: ANN001 - a slot; a StandardKey or a sequence
            act = QAction(text, self, triggered=slot)
            act.setShortcuts(keys if isinstance(keys, QKeySequence.StandardKey) else [QKeySequence(keys)])
            return act

        file_menu = self.menuBar().addMenu("&File")
        settings = action("&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        if not settings.shortcuts():
            settings.setShortcuts([QKeySequence("Ctrl+,")])
        file_menu.addAction(settings)
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        view = self.menuBar().addMenu("&View")
        for i, (key, label, _m, _c) in enumerate(PAGES):
            act = action(label, lambda _=False, k=key: self.show_page(k), f"Ctrl+{i + 1}")
            view.addAction(act)
            self.addAction(act)  # the shortcut works even where the menu bar is native or hidden

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction(f"&About {APP_NAME}", self, triggered=self.open_about))
        help_menu.addAction(QAction("Open &log folder", self, triggered=self._open_logs))

    def open_about(self) -> None:
        from studio.ui.dialogs import AboutDialog

        dlg = AboutDialog(self)
        dlg.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        dlg.open()

    def open_settings(self) -> None:
        from studio.ui.dialogs import SettingsDialog

        dlg = SettingsDialog(self.studio.layout, self, studio=self.studio)
        dlg.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        dlg.open()

    def _open_logs(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.studio.layout.logs)))

    # -- status bar --------------------------------------------------------------------------
    def refresh_storage(self) -> None:
        """Drafts storage used and free space in the data folder; a warning when drafts are at risk."""
        from studio.tasks import run_in_background

        def measure() -> dict:
            import shutil

            try:
                return self.studio.drafts.storage()
            except Exception as e:  # noqa: BLE001 - the store may not open (damaged DB): show free space only
                log.info("drafts storage unavailable: %s", e)
                return {"free_bytes": shutil.disk_usage(self.studio.layout.data).free}

        run_in_background(measure, on_done=self.show_storage, on_error=lambda e: log.warning("disk usage: %s", e),
                          owner=self.storage_label)

    def show_storage(self, s: dict) -> None:
        """The status bar's storage figure, worded by the same function as the Drafts page footer."""
        from studio.ui.drafts_model import storage_text

        text = storage_text(s)
        at_risk = bool(s.get("at_risk"))
        if at_risk:
            text = f"⚠ Low disk space: {text}"
        self.storage_label.setText(text)
        self.storage_label.setProperty("warning", at_risk)
        self.storage_label.setToolTip(
            "Free space is low: new recordings and saves may not fit. Empty the Trash or free some space."
            if at_risk else "Space used by your drafts' media, and free space on that disk.")

    def wire_uploads(self) -> None:
        """The status-bar indicator follows the upload queue; unfinished uploads resume by themselves.

        Everything slow (database, network) happens on the upload worker's thread or in the background.
        """
        from studio.ui.uploads_controller import controller_for

        ctl = controller_for(self.studio, start=False)
        ctl.overallChanged.connect(self.uploads_label.setText)
        ctl.start_when_pending()
        ctl.guard_close(self)   # quitting mid-upload: "n uploads will continue next time"
        self.destroyed.connect(ctl.shutdown)
