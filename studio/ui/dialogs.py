"""About, Settings and the non-blocking error dialog."""

from __future__ import annotations

import platform

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from studio import APP_NAME, __version__
from studio.paths import DataLayout
from studio.ui import theme
from studio.ui.prefs import MAX_TAKE_CHOICES, settings  # noqa: F401 - settings: its home was here




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
    """Preferences stored in QSettings, and (given ``studio``) the upload destinations.

    Each capability adds its own rows as it lands."""

    MAX_TAKE_CHOICES = MAX_TAKE_CHOICES

    def __init__(self, layout: DataLayout, parent: QWidget | None = None, *, studio=None):  # noqa: ANN001
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.layout_ = layout
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
        form.addRow("Export folder", self._export_folder_row())
        self.unmetered = QCheckBox("Upload only on unmetered networks")
        self.unmetered.setChecked(self.store.value("uploads/unmetered_only", False, type=bool))
        form.addRow("", self.unmetered)
        general = QWidget()
        general_lay = QVBoxLayout(general)
        general_lay.addLayout(form)
        note = QLabel(f"Data folder: {layout.data}")
        note.setProperty("class", "muted")
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        general_lay.addWidget(note)
        general_lay.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.destinations = None
        if studio is not None:
            from studio.ui.destinations import DestinationsPanel

            self.destinations = DestinationsPanel(studio)
            self.tabs.addTab(self.destinations, "Destinations")
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("SettingsError")
        self.error.hide()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _export_folder_row(self) -> QWidget:
        from studio.editor.export import SETTING_EXPORT_DIR, default_export_folder

        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.export_folder = QLineEdit(str(self.store.value(SETTING_EXPORT_DIR, "") or ""))
        self.export_folder.setPlaceholderText(f"{default_export_folder(self.layout_)} (Videos)")
        self.export_folder.setToolTip("Where Export puts the finished video, named after the draft")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_export_folder)
        h.addWidget(self.export_folder, 1)
        h.addWidget(choose)
        return row

    def _choose_export_folder(self) -> None:
        from studio.editor.export import export_folder

        start = self.export_folder.text() or str(export_folder(self.layout_))
        folder = QFileDialog.getExistingDirectory(self, "Export folder", start)
        if folder:
            self.export_folder.setText(folder)

    def accept(self) -> None:
        from pathlib import Path

        from studio.editor.export import ExportError, set_export_folder

        try:
            text = self.export_folder.text().strip()
            set_export_folder(self.layout_, Path(text) if text else None)
        except ExportError as e:
            self.error.setText(str(e))
            self.error.show()
            return
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
