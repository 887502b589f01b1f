"""The notice shown when the previous run closed unexpectedly (studio.lastrun decides that)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from studio.lastrun import PreviousRun

PAGE_NAMES = {"record": "the Record page", "drafts": "your drafts", "editor": "the editor",
              "uploads": "the Uploads page"}


def notice_text(previous: PreviousRun, draft_title: str | None) -> str:
    when = (time.strftime("%H:%M on %d %b", time.localtime(previous.ended_us / 1e6))
            if previous.ended_us else "last time")
    if previous.page == "editor":
        what = f"You were editing “{draft_title}”." if draft_title else "You were editing a draft."
    else:
        what = f"You were on {PAGE_NAMES.get(previous.page or '', 'the Record page')}."
    cause = ("The cause is in the log." if previous.trace else
             "It was stopped from outside (killed, or the computer lost power).")
    return (f"Reel Studio closed unexpectedly ({when}). {what} Your drafts, takes and queued uploads "
            f"are safe. {cause}")


def reopen_label(previous: PreviousRun, draft_title: str | None) -> str:
    if previous.page == "editor":
        return f"Reopen “{draft_title}”" if draft_title else "Reopen the draft"
    return f"Reopen {PAGE_NAMES.get(previous.page or '', 'the Record page')}"


class CrashNotice(QDialog):
    """Non-modal: says what happened, offers to reopen what was open, shows the trace on request."""

    reopen = Signal()

    def __init__(self, previous: PreviousRun, draft_title: str | None, log_folder: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("CrashNotice")
        self.setWindowTitle("Reel Studio closed unexpectedly")
        self.setWindowModality(Qt.NonModal)
        self._log_folder = log_folder
        self._previous = previous
        lay = QVBoxLayout(self)
        self.message = QLabel(notice_text(previous, draft_title), wordWrap=True)
        self.message.setMinimumWidth(420)
        lay.addWidget(self.message)
        if previous.trace:
            details = QPlainTextEdit(previous.trace, readOnly=True)
            details.setObjectName("CrashTrace")
            details.setMaximumHeight(160)
            details.setVisible(False)
            lay.addWidget(details)
            self.details = details
        else:
            self.details = None
        buttons = QDialogButtonBox()
        self.reopen_button = buttons.addButton(reopen_label(previous, draft_title), QDialogButtonBox.AcceptRole)
        if self.details is not None:
            show = buttons.addButton("Details", QDialogButtonBox.HelpRole)
            show.clicked.connect(lambda: self.details.setVisible(not self.details.isVisible()))
        logs = buttons.addButton("Open log folder", QDialogButtonBox.ActionRole)
        logs.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self._log_folder)))
        buttons.addButton("Not now", QDialogButtonBox.RejectRole)
        self.reopen_button.clicked.connect(self.reopen)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def set_draft_title(self, title: str) -> None:
        self.message.setText(notice_text(self._previous, title))
        self.reopen_button.setText(reopen_label(self._previous, title))
