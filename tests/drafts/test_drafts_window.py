"""The main window's storage label and the Drafts page wired into it."""

from __future__ import annotations

import pytest

from studio.ui.main_window import MainWindow



@pytest.fixture(autouse=True)
def _workers_done(qapp):
    """Let background reads finish inside the test, not while Qt tears down at exit."""
    yield
    from PySide6.QtCore import QThreadPool

    from studio.ui.drafts_model import thumbnail_pool

    for pool in (thumbnail_pool(), QThreadPool.globalInstance()):
        pool.waitForDone(20000)


def test_status_bar_shows_drafts_storage_and_warns_when_space_is_low(qtbot, studio, shared_media, monkeypatch):
    import studio.drafts.store as store_mod

    studio.drafts.import_files([shared_media / "minimal.mp4"])
    w = MainWindow(studio)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: "Drafts" in w.storage_label.text() and "free" in w.storage_label.text(), timeout=10000)
    assert "Low disk space" not in w.storage_label.text()
    monkeypatch.setattr(store_mod, "RISK_FREE_BYTES", 1 << 60)
    w.refresh_storage()
    qtbot.waitUntil(lambda: "Low disk space" in w.storage_label.text(), timeout=10000)
    assert w.storage_label.property("warning") is True


def test_open_in_editor_switches_page(qtbot, studio, shared_media):
    d = studio.drafts.import_files([shared_media / "minimal.mp4"])
    w = MainWindow(studio)
    qtbot.addWidget(w)
    page = w.show_page("drafts")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    page.select_ids([d.id])
    page.actions_by_name["open"].trigger()
    assert w.current_page_key() == "editor"
    editor = w.page("editor")
    if hasattr(editor, "shutdown"):  # the editor's playback thread must stop before the window goes
        editor.shutdown()
