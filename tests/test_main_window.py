"""The app shell, driven with pytest-qt on the offscreen platform."""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from studio.ui.main_window import PAGES, MainWindow


def test_sidebar_and_shortcuts_reach_all_four_pages(qtbot, studio):
    w = MainWindow(studio)
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
        w.activateWindow()
    assert w.windowTitle() == "Reel Studio"
    assert [w.sidebar.item(i).text().strip() for i in range(w.sidebar.count())] == \
        ["Record", "Drafts", "Editor", "Uploads"]
    for i, (key, *_rest) in enumerate(PAGES):
        w.sidebar.setCurrentRow(i)
        assert w.current_page_key() == key
        assert w.stack.currentWidget() is w.page(key)
    for i, (key, *_rest) in enumerate(PAGES):
        qtbot.keyClick(w, [Qt.Key_1, Qt.Key_2, Qt.Key_3, Qt.Key_4][i], Qt.ControlModifier)
        assert w.current_page_key() == key
        assert w.sidebar.currentRow() == i


def test_status_bar_shows_free_space(qtbot, studio):
    w = MainWindow(studio)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: "free" in w.storage_label.text(), timeout=5000)


def test_about_dialog_names_app_qt_and_ffmpeg_versions(qtbot, studio):
    from PySide6.QtCore import qVersion

    from studio.media import ffmpeg
    from studio.ui.dialogs import AboutDialog

    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    label = dlg.findChild(QLabel, "AboutVersions")
    assert qVersion() in label.text() and ffmpeg.version() in label.text()


def test_settings_persist_in_the_profile(qtbot, studio):
    from studio.ui.dialogs import SettingsDialog, settings

    dlg = SettingsDialog(studio.layout)
    qtbot.addWidget(dlg)
    dlg.max_take.setCurrentIndex(dlg.max_take.findData(90))
    dlg.countdown.setValue(5)
    dlg.accept()
    assert studio.layout.settings_file.is_file()
    again = settings(studio.layout)
    assert int(again.value("record/max_seconds")) == 90 and int(again.value("record/countdown")) == 5


def test_unhandled_exception_in_a_thread_is_logged_and_reported(qtbot, studio, caplog):
    from studio import logs

    logs.install_excepthooks()
    seen = []
    unsubscribe = logs.on_unhandled(lambda summary, details: seen.append((summary, details)))
    try:
        t = threading.Thread(target=lambda: 1 / 0, name="worker-x")
        t.start()
        t.join()
    finally:
        unsubscribe()
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__
    assert seen and seen[0][0].startswith("ZeroDivisionError")
    assert "Traceback" in seen[0][1]
    assert any("worker-x" in r.getMessage() for r in caplog.records)


def test_error_dialog_is_non_blocking(qtbot):
    from studio.ui.dialogs import ErrorDialog

    dlg = ErrorDialog("ValueError: boom", "Traceback...", "/tmp/log")
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.windowModality() == Qt.NonModal
    assert dlg.isVisible() and QApplication.activeModalWidget() is None
    assert dlg.icon() == QMessageBox.Warning


def test_secrets_are_redacted_from_log_text():
    from studio.logs import redact

    text = redact("aws_secret_access_key=AbCdEf123 and X-Amz-Signature=deadbeef&x=1 password: hunter2")
    assert "AbCdEf123" not in text and "deadbeef" not in text and "hunter2" not in text


def test_damaged_database_is_replaced_only_after_the_creator_agrees(qtbot, studio):
    from studio.ui.launch import _open_database

    db = studio.layout.database
    db.write_bytes(b"not a database at all" * 40)
    w = MainWindow(studio)
    qtbot.addWidget(w)
    w.show()
    _open_database(studio, w)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QMessageBox), timeout=20000)
    box = QApplication.activeModalWidget()
    assert "damaged" in box.text() or "damaged" in box.windowTitle()
    assert db.read_bytes().startswith(b"not a database")  # nothing replaced while the question is open
    fresh = next(b for b in box.buttons() if "fresh" in b.text())
    fresh.click()
    qtbot.waitUntil(lambda: studio._drafts is not None, timeout=20000)
    kept = [p for p in db.parent.iterdir() if p.name.startswith("studio.db.damaged-")]
    assert kept and kept[0].read_bytes().startswith(b"not a database")
