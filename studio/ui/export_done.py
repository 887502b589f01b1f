"""The bar shown after an export: where the file went, with "Play" and "Show in folder"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget


def open_url(url: QUrl) -> bool:
    """The desktop's opener (a player, a file manager). Tests replace ``ExportDoneBar.opener``."""
    return QDesktopServices.openUrl(url)


class ExportDoneBar(QFrame):
    """Hidden until ``show_file``; "Play" opens the file, "Show in folder" the folder that holds it."""

    opener = staticmethod(open_url)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ExportDoneBar")
        self.setStyleSheet("#ExportDoneBar { background: #1f1f27; border: 1px solid #3a3a48; border-radius: 8px; }"
                           "#ExportDoneBar QLabel { background: transparent; border: none; }")
        self.path: Path | None = None
        self.label = QLabel()
        self.label.setObjectName("ExportDoneText")
        self.label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)   # a long path never widens the page
        self.play = QPushButton("Play")
        self.play.setObjectName("exportPlayButton")
        self.play.setProperty("accent", True)
        self.folder = QPushButton("Show in folder")
        self.folder.setObjectName("exportFolderButton")
        self.close_button = QToolButton(text="✕", toolTip="Dismiss", autoRaise=True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.play)
        lay.addWidget(self.folder)
        lay.addWidget(self.close_button)
        self.play.clicked.connect(lambda: self._open(self.path))
        self.folder.clicked.connect(lambda: self._open(self.path.parent if self.path else None))
        self.close_button.clicked.connect(self.hide)
        self.hide()

    def show_file(self, path: str | Path) -> None:
        self.path = Path(path)
        self.label.setText(f"Exported “{self.path.name}” to {self.path.parent}")
        self.label.setToolTip(str(self.path))
        self.show()

    def _open(self, where: Path | None) -> None:
        if where is None:
            return
        if not where.exists():
            self.label.setText(f"{where} is not there any more (moved or deleted).")
            return
        if not self.opener(QUrl.fromLocalFile(str(where))):
            self.label.setText(f"No program on this computer opens {where.name}; it is in {where.parent}.")
