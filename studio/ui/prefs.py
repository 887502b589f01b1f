"""The app's settings file and the choices the pages and the Settings dialog share.

No widgets here: the first page reads its settings without loading the dialogs (studio.ui.dialogs
re-exports both names).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from studio.paths import DataLayout

MAX_TAKE_CHOICES = (15, 30, 60, 90, 180)   # seconds a take may last (Record page, Settings dialog)


def settings(layout: DataLayout) -> QSettings:
    """The app's QSettings, an INI file inside the profile (so --data-dir isolates it too)."""
    return QSettings(str(layout.settings_file), QSettings.IniFormat)
