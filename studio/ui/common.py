"""Small widgets every page uses: page header, the plain "not built yet" notice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def page_header(title: str, subtitle: str = "") -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 8)
    t = QLabel(title)
    t.setObjectName("PageTitle")
    lay.addWidget(t)
    if subtitle:
        s = QLabel(subtitle)
        s.setObjectName("PageSubtitle")
        s.setWordWrap(True)
        lay.addWidget(s)
    return box


class NotBuiltPage(QWidget):
    """A page whose capability has not been built yet. It says so plainly and offers nothing fake."""

    def __init__(self, title: str, subtitle: str, missing: str, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 28, 32, 28)
        lay.addWidget(page_header(title, subtitle))
        note = QLabel(missing)
        note.setObjectName("NotBuilt")
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignCenter)
        lay.addStretch(1)
        lay.addWidget(note)
        lay.addStretch(2)
