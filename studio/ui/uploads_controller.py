"""One upload worker per window's Studio, shared by the Uploads page and the status-bar indicator.

The worker thread opens the database itself, so nothing here makes the UI thread wait on disk or
network. A tray notification is shown when an upload completes or fails, where a system tray exists.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from studio.uploader.progress import Progress, human_bytes
from studio.uploader.worker import UploadWorker

log = logging.getLogger(__name__)
_controllers: dict[int, "UploadsController"] = {}


class UploadsController(QObject):
    overallChanged = Signal(str)   # text for the status bar

    def __init__(self, studio, parent: QObject | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.worker = UploadWorker(studio)
        self.progress: dict[str, Progress] = {}
        self.active: set[str] = set()
        self.busy_elsewhere = False
        self._tray: QSystemTrayIcon | None = None
        self._shut = False
        self._checking = False
        self._counting = False
        self.unfinished = 0   # uploads not done yet (refreshed in the background): the quit notice uses it
        self.worker.progressChanged.connect(self._on_progress)
        self.worker.stateChanged.connect(self._on_state)
        self.worker.runnerBusy.connect(self._on_busy)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def start(self) -> None:
        if not self.worker.is_running() and not self._shut:
            self.worker.start()

    def start_when_pending(self, every_ms: int = 5000) -> None:
        """Start the worker once the queue has unfinished jobs (checked in the background, now and then)."""
        from PySide6.QtCore import QTimer

        from studio.tasks import run_in_background

        def check() -> None:
            if self.worker.is_running() or self._shut or self._checking:
                return
            self._checking = True
            run_in_background(lambda: self.studio.uploads.has_pending(), on_done=self._pending_checked,
                              on_error=lambda e: self._pending_checked(False))

        self._poll = QTimer(self, interval=every_ms, timeout=check)
        self._poll.start()
        check()
        self._count_timer = QTimer(self, interval=3000, timeout=self.count_unfinished)
        self._count_timer.start()
        self.count_unfinished()

    def count_unfinished(self) -> None:
        """Refresh ``unfinished`` off the UI thread (a service call: UploadQueue.unfinished_count)."""
        from studio.tasks import run_in_background

        if self._counting or self._shut:
            return
        self._counting = True

        def counted(n: int) -> None:
            self._counting = False
            self.unfinished = n

        def failed(e: BaseException) -> None:
            self._counting = False
            log.info("could not count unfinished uploads: %s", e)

        run_in_background(lambda: self.studio.uploads.unfinished_count(), on_done=counted, on_error=failed)

    def guard_close(self, window) -> None:  # noqa: ANN001 - QWidget
        """Closing ``window`` with uploads unfinished says "n uploads will continue next time" first."""
        self._close_guard = _CloseGuard(self, window)

    def _pending_checked(self, pending: bool) -> None:
        self._checking = False
        if pending:
            self.start()

    def shutdown(self) -> None:
        self._shut = True
        if self.worker.is_running():
            self.worker.stop()
        _controllers.pop(id(self.studio), None)

    def _on_busy(self, busy: bool) -> None:
        self.busy_elsewhere = busy
        self._emit_overall()

    def _on_progress(self, job_id: str, p: Progress) -> None:
        self.progress[job_id] = p
        if p.done < p.total:
            self.active.add(job_id)
        self._emit_overall()

    def _on_state(self, job_id: str, state: str) -> None:
        if state in ("COMPLETED", "FAILED", "CANCELLED", "PAUSED"):
            self.active.discard(job_id)
            if state != "PAUSED":   # a paused job keeps its last progress for when it resumes
                self.progress.pop(job_id, None)
        else:
            self.active.add(job_id)
        if state in ("COMPLETED", "FAILED"):
            self._notify(job_id, state)
        self._emit_overall()
        self.count_unfinished()

    def _emit_overall(self) -> None:
        live = [self.progress[j] for j in self.active if j in self.progress]
        if self.busy_elsewhere and not live:
            self.overallChanged.emit("Uploads running in another Reel Studio process")
        elif not live:
            self.overallChanged.emit("No uploads running")
        else:
            done, total = sum(p.done for p in live), sum(p.total for p in live)
            rate = sum(p.rate for p in live)
            self.overallChanged.emit(f"Uploading {len(live)}: {done * 100 // max(total, 1)}% · {human_bytes(rate)}/s")

    def _notify(self, job_id: str, state: str) -> None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        if self._tray is None:
            from studio.ui import theme

            self._tray = QSystemTrayIcon(theme.icon("app"), self)
            self._tray.show()
        from studio.tasks import run_in_background

        def show(title: str) -> None:
            if self._tray is None:
                return
            if state == "COMPLETED":
                self._tray.showMessage("Upload complete", f"“{title}” is uploaded.", QSystemTrayIcon.Information)
            else:
                self._tray.showMessage("Upload failed", f"“{title}” did not upload; open Uploads to see why.",
                                       QSystemTrayIcon.Warning)

        run_in_background(lambda: self.studio.uploads.get(job_id).title or job_id[:8], on_done=show,
                          on_error=lambda _e: show(job_id[:8]))


def quit_notice(n: int) -> str:
    return f"{n} upload{'s' if n != 1 else ''} will continue next time you open Reel Studio."


class _CloseGuard(QObject):
    """An event filter on the main window: with uploads unfinished, the first close shows, inside the
    window, "n uploads will continue next time" with Quit / Keep open; nothing uploads while the app is
    closed. Any close while it shows quits: a second click, or the app quitting (Qt 6's quit() closes
    every window and gives up when one refuses; a separate dialog window would be closed first and
    make the main window ask again)."""

    def __init__(self, controller: UploadsController, window):  # noqa: ANN001 - QWidget
        super().__init__(window)
        self.controller, self.window = controller, window
        self.confirmed = False
        self.notice = None
        window.installEventFilter(self)

    @property
    def asking(self) -> bool:
        return self.notice is not None and self.notice.isVisible()

    def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802 - Qt API
        from PySide6.QtCore import QEvent

        if obj is not self.window:
            return False
        if event.type() == QEvent.Type.Resize and self.asking:
            self._place()
        if event.type() != QEvent.Type.Close or self.confirmed:
            return False
        n = self.controller.unfinished
        if self.asking or n <= 0 or self.controller._shut:
            self.confirmed = self.confirmed or self.asking
            return False
        event.ignore()
        self._ask(n)
        return True

    def _ask(self, n: int) -> None:
        from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

        if self.notice is None:
            box = self.notice = QFrame(self.window)
            box.setObjectName("QuitNotice")
            box.setFrameShape(QFrame.StyledPanel)
            box.setStyleSheet("#QuitNotice { background: #24242e; border: 1px solid #4a4a5a; border-radius: 12px; }"
                              "#QuitNotice QLabel { background: transparent; border: none; }")
            self.text = QLabel()
            self.text.setObjectName("QuitNoticeText")
            self.text.setWordWrap(True)
            detail = QLabel("Nothing uploads while the app is closed; each upload resumes where it stopped.")
            detail.setWordWrap(True)
            detail.setProperty("class", "muted")
            self.quit_button = QPushButton("Quit")
            self.quit_button.setProperty("accent", True)
            self.keep_button = QPushButton("Keep open")
            buttons = QHBoxLayout()
            buttons.addStretch(1)
            buttons.addWidget(self.keep_button)
            buttons.addWidget(self.quit_button)
            lay = QVBoxLayout(box)
            lay.addWidget(self.text)
            lay.addWidget(detail)
            lay.addLayout(buttons)
            self.quit_button.clicked.connect(self._quit)
            self.keep_button.clicked.connect(box.hide)
        self.text.setText(quit_notice(n))
        log.info("quit asked with %d unfinished upload(s)", n)
        self._place()
        self.notice.show()
        self.notice.raise_()
        self.quit_button.setFocus()

    def _place(self) -> None:
        width = min(460, self.window.width() - 40)
        self.notice.setFixedWidth(width)
        self.notice.adjustSize()
        self.notice.move((self.window.width() - width) // 2, 60)

    def _quit(self) -> None:
        self.confirmed = True
        self.notice.hide()
        self.window.close()


def shutdown_for(studio) -> None:  # noqa: ANN001 - studio.app.Studio
    """Stop ``studio``'s upload worker, if one runs (the window closed; the jobs stay resumable)."""
    ctl = _controllers.get(id(studio))
    if ctl is not None:
        ctl.shutdown()


def controller_for(studio, *, start: bool = True) -> UploadsController:  # noqa: ANN001
    """The shared controller for ``studio`` (created, and its worker started, on first use)."""
    ctl = _controllers.get(id(studio))
    if ctl is None:
        ctl = _controllers[id(studio)] = UploadsController(studio)
    if start:
        ctl.start()
    return ctl
