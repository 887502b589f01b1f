"""The Drafts page."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.common import NotBuiltPage


class DraftsPage(NotBuiltPage):
    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__("Drafts", "Everything you saved, newest first. Drafts survive closing the app, crashes and power cuts.",
                         "The drafts tray is not built yet (issue #3): the crash-safe draft store, import and the tray arrive there.", parent)
        self.studio = studio
