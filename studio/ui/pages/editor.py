"""The Editor page."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.common import NotBuiltPage


class EditorPage(NotBuiltPage):
    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__("Editor", "Trim, add music, text and stickers. Your takes are never modified.",
                         "The editor is not built yet (issue #5): timeline, preview, overlays and export arrive there.", parent)
        self.studio = studio
