"""About, Settings and the non-blocking error dialog."""

from __future__ import annotations

import platform

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QMessageBox, QSpinBox, QVBoxLayout, QWidget)

from studio import APP_NAME, __version__
from studio.paths import DataLayout
from studio.ui import theme


def settings(layout: DataLayout) -> QSettings:
    """The app's QSettings, an INI file inside the profile (so --data-dir isolates it too)."""
    return QSettings(str(layout.settings_file), QSettings.IniFormat)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        from PySide6 import QtCore, __version__ as pyside_version

        from studio.media import ffmpeg

        try:
            ff = ffmpeg.version()
        except Exception as e:  # noqa: BLE001 - shown, not raised
            ff = f"not found ({e})"
        lay = QVBoxLayout(self)
        logo = QLabel()
        logo.setPixmap(theme.icon("app").pixmap(72, 72))
        logo.setAlignment(Qt.AlignCenter)
        lay.addWidget(logo)
        title = QLabel(f"<h2>{APP_NAME} {__version__}</h2>")
        title.setAlignment(Qt.AlignCenter)
        lay.addWidget(title)
        info = QLabel(
            "Record, edit and publish short vertical videos.<br><br>"
            f"Qt {QtCore.qVersion()} · PySide6 {pyside_version}<br>"
            f"Python {platform.python_version()}<br>"
            f"ffmpeg {ff}")
        info.setObjectName("AboutVersions")
        info.setAlignment(Qt.AlignCenter)
        info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(info)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


class SettingsDialog(QDialog):
    """Preferences stored in QSettings. Each capability adds its own rows as it lands."""

    MAX_TAKE_CHOICES = (15, 30, 60, 90, 180)

    def __init__(self, layout: DataLayout, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(460)
        self.store = settings(layout)
        form = QFormLayout()
        self.max_take = QComboBox()
        for s in self.MAX_TAKE_CHOICES:
            self.max_take.addItem(f"{s} s" if s < 60 else f"{s // 60} min" if s % 60 == 0 else f"{s} s", s)
        current = int(self.store.value("record/max_seconds", 60))
        self.max_take.setCurrentIndex(max(0, self.max_take.findData(current)))
        form.addRow("Maximum take length", self.max_take)
        self.countdown = QSpinBox(minimum=0, maximum=10, suffix=" s")
        self.countdown.setValue(int(self.store.value("record/countdown", 3)))
        form.addRow("Countdown before recording", self.countdown)
        self.confirm_discard = QCheckBox("Ask before discarding takes")
        self.confirm_discard.setChecked(self.store.value("record/confirm_discard", True, type=bool))
        form.addRow("", self.confirm_discard)
        self.unmetered = QCheckBox("Upload only on unmetered networks")
        self.unmetered.setChecked(self.store.value("uploads/unmetered_only", False, type=bool))
        form.addRow("", self.unmetered)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        note = QLabel(f"Data folder: {layout.data}")
        note.setProperty("class", "muted")
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def accept(self) -> None:
        self.store.setValue("record/max_seconds", self.max_take.currentData())
        self.store.setValue("record/countdown", self.countdown.value())
        self.store.setValue("record/confirm_discard", self.confirm_discard.isChecked())
        self.store.setValue("uploads/unmetered_only", self.unmetered.isChecked())
        self.store.sync()
        super().accept()


class ErrorDialog(QMessageBox):
    """Non-modal: the app keeps working while the creator reads what went wrong."""

    def __init__(self, summary: str, details: str, logfile: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setIcon(QMessageBox.Warning)
        self.setWindowTitle("Something went wrong")
        self.setText("Reel Studio hit an unexpected error. Your drafts, takes and uploads are safe.")
        self.setInformativeText(f"{summary}\n\nDetails were written to {logfile}.")
        self.setDetailedText(details)
        self.setStandardButtons(QMessageBox.Close)
        self.setWindowModality(Qt.NonModal)
        self.setAttribute(Qt.WA_DeleteOnClose)
