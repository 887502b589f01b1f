"""The dark theme and icons, loaded from resources/ (the same way from source and the bundle)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from studio.paths import resource


def icon(name: str) -> QIcon:
    return QIcon(str(resource("icons", f"{name}.svg")))


STYLE = "Fusion"
# Given to QApplication at its creation (the app's start): setStyle() there would cost the first frame
# a few milliseconds to wrap the style for Python (its dozens of enums), for a return value unused.
QT_ARGS = ["-style", STYLE]


def apply(app: QApplication, *, styled: bool = False) -> None:
    """The palette, style sheet and window icon; the Fusion style too unless ``styled`` (the app was
    made with QT_ARGS)."""
    if not styled:
        app.setStyle(STYLE)
    pal = QPalette()
    for role, colour in ((QPalette.Window, "#16161c"), (QPalette.WindowText, "#e6e6ee"),
                         (QPalette.Base, "#1f1f27"), (QPalette.AlternateBase, "#23232c"),
                         (QPalette.Text, "#e6e6ee"), (QPalette.Button, "#2a2a35"),
                         (QPalette.ButtonText, "#e6e6ee"), (QPalette.Highlight, "#ff5f6d"),
                         (QPalette.HighlightedText, "#16161c"), (QPalette.ToolTipBase, "#2a2a35"),
                         (QPalette.ToolTipText, "#e6e6ee"), (QPalette.PlaceholderText, "#6f6f80")):
        pal.setColor(role, QColor(colour))
    app.setPalette(pal)
    app.setStyleSheet(resource("theme.qss").read_text(encoding="utf-8"))
    app.setWindowIcon(icon("app"))
