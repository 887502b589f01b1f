"""Start the GUI: services, logging, theme, main window; `--quit-after` for smoke tests."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from pathlib import Path

# Our pure-Python modules before PySide6: from its import on, PySide6 reads the source of each newly
# imported module (its __feature__ hook, PYSIDE-2029), a cost the first frame would pay for them all.
from studio import APP_ID, APP_NAME, __version__, logs
from studio.app import build
from studio.lastrun import LastRun, end_process

from PySide6 import QtCore  # noqa: E402,I001 - after the modules above, on purpose
from PySide6.QtCore import QObject, QTimer, Signal  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

log = logging.getLogger(__name__)


class _ErrorBridge(QObject):
    """Carries unhandled exceptions from any thread to ``show`` on the UI thread, never inside the
    call that failed: from a worker the signal is queued to this object's thread; raised on the UI
    thread, it waits for the next turn of the event loop."""

    raised = Signal(str, str)

    def __init__(self, show) -> None:  # noqa: ANN001 - Callable[[str, str], None]
        super().__init__()
        self._show = show
        self.raised.connect(self._deliver)   # a method of a UI-thread object: queued from other threads

    def _deliver(self, summary: str, details: str) -> None:
        QTimer.singleShot(0, lambda: self._show(summary, details))


def _grab(window, path: str) -> None:  # noqa: ANN001 - MainWindow
    screen = window.screen()
    geo = window.frameGeometry()
    pixmap = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    if pixmap.isNull() or not pixmap.save(path, "PNG"):
        log.error("screenshot to %s failed", path)


def _open_database(studio, window) -> None:  # noqa: ANN001 - Studio, MainWindow
    """Open (migrate, recover) the draft store off the UI thread; a damaged or newer database is
    explained, and a damaged one is replaced only if the creator agrees (the file is kept aside)."""
    from studio.tasks import run_in_background

    def failed(e: BaseException) -> None:
        # imported here: studio.db brings SQLAlchemy and Alembic, which the job has loaded off the UI thread
        from PySide6.QtWidgets import QMessageBox

        from studio.db import DatabaseNewerError, NotADatabaseError

        if isinstance(e, NotADatabaseError):
            box = QMessageBox(QMessageBox.Warning, "The drafts database is damaged",
                              "Reel Studio cannot read its database. The damaged file will be kept as it is "
                              f"(moved aside next to it) and your media files stay where they are.\n\n{e.path}",
                              QMessageBox.NoButton, window)
            fresh = box.addButton("Start with a fresh database", QMessageBox.AcceptRole)
            box.addButton("Not now", QMessageBox.RejectRole)
            box.setWindowModality(QtCore.Qt.WindowModal)

            def answered(_result: int) -> None:
                if box.clickedButton() is fresh:
                    studio.reset_database = True
                    run_in_background(lambda: studio.drafts, on_done=lambda _s: window.refresh_storage(),
                                      on_error=failed)

            box.finished.connect(answered)
            box.open()
        elif isinstance(e, (DatabaseNewerError, OSError)):
            QMessageBox.critical(window, APP_NAME, str(e))
        else:
            sys.excepthook(type(e), e, e.__traceback__)

    def open_store():  # noqa: ANN202 - the app's own upkeep (empties old Trash, logged) runs here, not on reads
        store = studio.drafts
        store.maintenance()
        return store

    run_in_background(open_store, on_error=failed)


def _reopen(window, previous, *, soon: bool = False) -> None:  # noqa: ANN001 - MainWindow, PreviousRun
    """Show the page (and draft) of the last run; ``soon``: at start (MainWindow.show_first_page)."""
    show = window.show_first_page if soon else window.show_page
    if previous.page == "editor" and previous.draft_id:
        show("editor", previous.draft_id)
    elif previous.page in ("record", "drafts", "uploads", "editor"):
        show(previous.page)
    else:
        show("record")


def _offer_reopen(studio, window, previous) -> None:  # noqa: ANN001 - Studio, MainWindow, PreviousRun
    """After a crash, say so at once and offer (not force: it may crash again) to reopen what was open.
    The draft's title, which needs the database, fills in when it is known."""
    from studio.tasks import run_in_background
    from studio.ui.crash_notice import CrashNotice

    notice = CrashNotice(previous, None, str(studio.layout.logs), window)
    notice.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    notice.reopen.connect(lambda: _reopen(window, previous))
    window.crash_notice = notice
    notice.show()
    log.info("crash notice shown (last run: page %s, draft %s)", previous.page, previous.draft_id)
    if not previous.draft_id:
        return

    def title() -> str | None:
        try:
            return studio.drafts.get(previous.draft_id).title
        except Exception as e:  # noqa: BLE001 - deleted draft, damaged database: the notice stays generic
            log.info("draft of the last run unavailable: %s", e)
            return None

    def named(draft_title: str | None) -> None:
        if draft_title and window.crash_notice is notice and notice.isVisible():
            notice.set_draft_title(draft_title)

    run_in_background(title, on_done=named, on_error=lambda _e: None, owner=notice)


def _import_when_ready(page, files: list) -> None:  # noqa: ANN001 - DraftsPage
    """Import the files the app was started with, once the Drafts page has its store."""
    if page.store is not None:
        page.import_files(files)
    else:
        page.store_ready.connect(lambda: page.import_files(files), QtCore.Qt.SingleShotConnection)


def open_failure_text(given: str, exc: BaseException) -> str:
    """Why ``--open`` found no draft, in a window's words (the CLI's own sentences name commands)."""
    from studio.drafts import AmbiguousDraftId
    from studio.drafts.store import MIN_PREFIX

    given = given.strip()
    if isinstance(exc, AmbiguousDraftId):
        return (f"More than one draft has an id starting with “{given}”, so none was opened. "
                "Pick the one you meant below.")
    if len(given) < MIN_PREFIX or any(c not in "0123456789abcdefABCDEF" for c in given):
        return (f"“{given}” is not a draft id, so no draft was opened. A draft id has letters a–f and digits; "
                f"its first {MIN_PREFIX} characters are enough. Pick the draft below.")
    return (f"No draft has an id starting with “{given}”, so none was opened. It may have been deleted "
            "for good. Your drafts are below.")


def _open_draft(studio, window, given: str) -> None:  # noqa: ANN001 - Studio, MainWindow
    """``--open ID``: the same id resolver as the CLI (full id or a unique prefix of 6+ characters),
    off the UI thread; an unknown id shows the Drafts page with a sentence instead of a dead editor."""
    from studio.drafts import DraftError, DraftNotFound
    from studio.tasks import run_in_background

    def failed(e: BaseException) -> None:
        if not isinstance(e, (DraftNotFound, DraftError)):
            log.warning("--open %s: %s", given, e)   # the store did not open: _open_database explains it
            return
        page = window.show_page("drafts")
        page.show_notice(open_failure_text(given, e))

    run_in_background(lambda: studio.drafts.resolve_id(given), on_error=failed,
                      on_done=lambda draft_id: window.show_page("editor", draft_id))


def run_gui(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_ID)
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName(APP_ID)
    try:
        studio = build(args.data_dir, reset_database=args.reset_database)
    except OSError as e:  # DataDirError: say it in a window, not only on a terminal nobody sees
        from PySide6.QtWidgets import QMessageBox

        app = QApplication.instance() or QApplication(sys.argv[:1])
        QMessageBox.critical(None, APP_NAME, str(e))
        return 1
    logfile = logs.setup_logging(studio.layout.logs, verbose=args.verbose, rotating=False)   # rotates once shown
    logs.install_excepthooks()
    lastrun = LastRun(studio.layout.logs)
    previous = lastrun.begin()  # arms faulthandler: a fatal error of this run lands in logs/fatal.log
    from studio.ui import theme
    from studio.ui.main_window import MainWindow

    made = QApplication.instance() is None
    app = QApplication.instance() or QApplication(sys.argv[:1] + theme.QT_ARGS)
    # The window is built with its first page (MainWindow.show_first_page); the page's devices, the
    # database and the upload queue start after the first paint, their imports off the UI thread.
    window = MainWindow(studio, after_first_paint=True)
    from studio.ui import error_presenter

    error_presenter.install(window)   # background errors nobody handled: a sentence, or the error dialog
    open_dialogs: list = []

    def show_error(summary: str, details: str) -> None:
        from studio.ui.dialogs import ErrorDialog

        if len(open_dialogs) >= 3:  # a storm of errors: the log has them all
            return
        dlg = ErrorDialog(summary, details, str(logfile), window)
        open_dialogs.append(dlg)
        dlg.destroyed.connect(lambda *_: open_dialogs.remove(dlg) if dlg in open_dialogs else None)
        dlg.show()

    bridge = _ErrorBridge(show_error)
    unsubscribe = logs.on_unhandled(lambda s, d: bridge.raised.emit(s, d))
    window.draftOpened.connect(lambda draft_id: lastrun.update(draft_id=draft_id))
    window.restore_geometry()
    probe = bool(os.environ.get("STUDIO_STARTUP_PROBE"))
    files = [Path(f) for f in getattr(args, "open_files", None) or []]
    if files:   # `studio clip.mp4 …` (a file manager's "Open with"): each file becomes a draft
        window.show_page_soon("drafts")
        window.when_page("drafts", lambda page: _import_when_ready(page, files))
    elif args.open:
        window.show_page_soon("editor")
    elif args.page:
        window.show_first_page(args.page)
    elif previous is not None and previous.clean and previous.page:
        _reopen(window, previous, soon=True)  # a normal quit: come back where the creator left off
    else:
        window.show_first_page("record")
    # Each page shown is remembered for the next start (a small atomic write, fsynced); the first one
    # once the window has painted, so the first frame does not wait on the disk for it.
    window.pageChanged.connect(lambda key: lastrun.update(page=key))

    def content_shown() -> None:
        # The start-up probe (bench/bench_startup.py): the window has painted with its real first page,
        # not the placeholder a page shows while its module loads.
        log.info("main window shown with its page in %.3f s", time.perf_counter() - t0)
        if probe:
            print("studio:window-shown", flush=True)

    def shown() -> None:
        gc.enable()   # off since studio.cli began the start
        logs.rotate_from_now()
        lastrun.update(page=window.current_page_key())
        if args.open:
            _open_draft(studio, window, args.open)
        if previous is not None and previous.crashed:
            _offer_reopen(studio, window, previous)
        _open_database(studio, window)

    # The style sheet last: applied to the finished widgets once, not again at each one made and parented
    theme.apply(app, styled=made)
    window.contentPainted.connect(content_shown)
    window.firstPainted.connect(shown)
    if probe:
        window.closing.connect(lambda: print("studio:closing", flush=True))
    window.show()
    shot = os.environ.get("STUDIO_SCREENSHOT")
    if shot and args.quit_after is not None:
        # `make screenshots`: grab the real window from the (X) screen just before quitting.
        QTimer.singleShot(max(0, int(args.quit_after * 1000) - 300), lambda: _grab(window, shot))
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
        QTimer.singleShot(int(args.quit_after * 1000) + 50, app.quit)
    try:
        code = app.exec()
    finally:
        from studio.tasks import wait_for_background

        wait_for_background()
        unsubscribe()
        studio.close()
        lastrun.end()
    end_process(code, run_atexit=True)   # the database, marker and settings are closed above
    return code  # not reached


