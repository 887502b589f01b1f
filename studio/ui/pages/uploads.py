"""The Uploads page."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.common import NotBuiltPage


class UploadsPage(NotBuiltPage):
    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__("Uploads", "Background uploads that resume where they stopped, even after the app was closed.",
                         "Uploading is not built yet (issue #6): targets, the local S3 and the resumable queue arrive there.", parent)
        self.studio = studio
