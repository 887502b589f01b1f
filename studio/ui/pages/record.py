"""The Record page."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.common import NotBuiltPage


class RecordPage(NotBuiltPage):
    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__("Record", "Record takes from your webcam, with a 9",
                         "16 framing guide.:Recording is not built yet (issue #4): camera sources, countdown, takes and the save / discard / post decision arrive there.", parent)
        self.studio = studio
