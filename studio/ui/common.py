"""Small widgets every page uses: the page header, the banner (a sentence with buttons); and
``after_first_paint``, for the work a page starts once it is on screen."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


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


class _FirstPaint(QObject):
    def __init__(self, widget: QWidget, fn: Callable[[], None]):
        super().__init__(widget)
        self._fn = fn
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802, ANN001 - Qt override
        if event.type() == QEvent.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self._fire)   # once this paint (the whole window's) has reached the screen
        return False

    def _fire(self) -> None:
        fn, self._fn = self._fn, None
        self.deleteLater()
        if fn is not None:
            fn()


def after_first_paint(widget: QWidget, fn: Callable[[], None]) -> None:
    """Call ``fn()`` on the event-loop turn after ``widget`` first paints (never, if it never does; its
    deletion drops the call). A page is built and painted before it opens devices or the database."""
    _FirstPaint(widget, fn)


class Banner(QFrame):
    """A strip with a sentence and up to two buttons (Undo, Save, Discard...); its × dismisses it."""

    dismissed = Signal()

    def __init__(self, object_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setFrameShape(QFrame.StyledPanel)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.buttons: list[QPushButton] = []
        for _ in range(2):
            b = QPushButton()
            b.hide()
            lay.addWidget(b)
            self.buttons.append(b)
        close = QPushButton("×")   # in every font, unlike ✕
        close.setFlat(True)
        close.setFixedWidth(28)
        close.setToolTip("Dismiss")
        close.clicked.connect(self._dismiss)
        lay.addWidget(close)
        self._handlers: list = [None, None]
        for i, b in enumerate(self.buttons):
            b.clicked.connect(lambda _=False, i=i: self._clicked(i))
        self.hide()

    def show_message(self, text: str, *actions: tuple[str, object]) -> None:
        self.label.setText(text)
        for i, b in enumerate(self.buttons):
            if i < len(actions):
                b.setText(actions[i][0])
                self._handlers[i] = actions[i][1]
                b.show()
            else:
                self._handlers[i] = None
                b.hide()
        self.show()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()

    def _clicked(self, i: int) -> None:
        handler = self._handlers[i]
        self.hide()
        if handler:
            handler()
