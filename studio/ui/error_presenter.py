"""How the window shows an error that no one else handled (studio.tasks' default presenter).

An error with a sentence for the creator (``user_message``) becomes a plain message box over the
window that asked; anything else is a bug: it goes to the unhandled-exception reporter, which
logs the traceback and shows the error dialog.
"""

from __future__ import annotations

import logging
import sys

from PySide6 import QtCore
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from studio import APP_NAME
from studio.tasks import set_error_presenter, user_message

log = logging.getLogger(__name__)


def install(window: QWidget) -> None:
    """Show background errors over ``window`` (or over the widget that owned the job)."""

    def present(exc: BaseException, owner: QObject | None) -> None:
        if getattr(exc, "user_message", None) is None:
            sys.excepthook(type(exc), exc, exc.__traceback__)
            return
        from PySide6.QtWidgets import QMessageBox   # not before the first paint: its type costs the start

        log.warning("%s", user_message(exc))
        parent = owner.window() if isinstance(owner, QWidget) else window
        box = QMessageBox(QMessageBox.Warning, APP_NAME, user_message(exc), QMessageBox.Ok, parent)
        box.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        box.open()

    set_error_presenter(present)
    window.destroyed.connect(lambda *_: set_error_presenter(None))
