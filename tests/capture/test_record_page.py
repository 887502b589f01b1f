"""pytest-qt drives the Record page like a creator: countdown, record, stop, save — without a camera."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QThreadPool

from studio.capture import takes
from studio.ui.dialogs import settings


@pytest.fixture
def page(qtbot, studio, monkeypatch):
    monkeypatch.setattr("studio.capture.devices.list_cameras", lambda: [])
    from studio.ui.pages.record import RecordPage

    p = RecordPage(studio)
    qtbot.addWidget(p)
    p.size_box.setCurrentIndex(0)   # 640x360 keeps the shared CI machine relaxed
    p.resize(1100, 720)
    p.show()
    qtbot.waitUntil(lambda: p.state == "ready", timeout=20_000)
    yield p
    p.hide()   # releases the camera in the background, like leaving the page
    p._camera_pool.waitForDone(20_000)
    QThreadPool.globalInstance().waitForDone(20_000)


def record_one(qtbot, page, seconds_ms: int = 1200) -> None:
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.state == "recording", timeout=10_000)
    qtbot.wait(seconds_ms)
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.state == "ready", timeout=20_000)


def test_countdown_record_stop_save(qtbot, page, studio):
    assert "No camera" in page.notice.text() and "test pattern" in page.notice.text()
    assert page.source_box.currentData() == "synthetic"
    qtbot.waitUntil(lambda: page.preview.image is not None, timeout=5_000)
    assert page.preview.guide_rect().width() / page.preview.guide_rect().height() == pytest.approx(9 / 16)

    page.activateWindow()
    page.setFocus()
    qtbot.keyClick(page, Qt.Key_Space)
    assert page.state == "countdown" and page.preview.countdown == 3
    assert page.record_button.text() == "Cancel"
    qtbot.waitUntil(lambda: page.preview.countdown == 2, timeout=2_500)
    qtbot.waitUntil(lambda: page.state == "recording", timeout=5_000)
    assert page.record_button.text() == "Stop"
    qtbot.waitUntil(lambda: page.timer_label.text().startswith("00:01"), timeout=5_000)
    assert "Dropped" in page.counters.text()
    qtbot.keyClick(page, Qt.Key_R)    # stop from the keyboard too
    qtbot.waitUntil(lambda: len(page.takes) == 1 and page.state == "ready", timeout=20_000)
    assert page.strip.count() == 1 and page.save_button.isEnabled()
    assert page.takes[0].has_audio and page.takes[0].duration_us >= 1_000_000

    with qtbot.waitSignal(page.saved, timeout=30_000) as saved:
        qtbot.mouseClick(page.save_button, Qt.LeftButton)
    draft = studio.drafts.get(saved.args[0])
    assert len(draft.assets) == 1 and draft.assets[0].has_audio
    assert page.takes == [] and page.strip.count() == 0 and "Saved as draft" in page.notice.text()
    assert takes.unsaved_takes(studio.layout) == []


def test_take_strip_delete_discard_and_post(qtbot, page, studio):
    store = settings(studio.layout)
    store.setValue("record/countdown", 0)
    store.setValue("record/confirm_discard", False)
    record_one(qtbot, page)
    record_one(qtbot, page, 800)
    assert page.strip.count() == 2
    assert len(list(studio.layout.takes.iterdir())) == 2

    page.strip.setCurrentRow(0)
    qtbot.mouseClick(page.delete_button, Qt.LeftButton)
    assert len(page.takes) == 1 and page.strip.count() == 1
    QThreadPool.globalInstance().waitForDone(10_000)
    assert [d.name for d in studio.layout.takes.iterdir()] == [page.takes[0].id]

    from studio.ui.pages.record import edit_blocker, post_missing

    if edit_blocker() is None:   # Edit = save, then open the draft in the editor
        with qtbot.waitSignal(page.navigate, timeout=30_000) as nav:
            qtbot.mouseClick(page.edit_button, Qt.LeftButton)
        assert nav.args[0] == "editor" and studio.drafts.get(nav.args[1]).assets
        assert page.takes == []
        record_one(qtbot, page)

    missing = post_missing()
    if missing:   # Post says what this build lacks instead of pretending
        assert not page.post_button.isEnabled()
        assert all(m in page.post_button.text() for m in missing)
    else:
        with qtbot.waitSignal(page.navigate, timeout=30_000) as nav:
            qtbot.mouseClick(page.post_button, Qt.LeftButton)
        assert nav.args[0] == "uploads" and "draft_id" in nav.args[1]
        record_one(qtbot, page)

    qtbot.mouseClick(page.discard_button, Qt.LeftButton)
    QThreadPool.globalInstance().waitForDone(10_000)
    assert page.takes == [] and list(studio.layout.takes.iterdir()) == []


def test_max_length_stops_the_take_by_itself(qtbot, page, studio, monkeypatch):
    settings(studio.layout).setValue("record/countdown", 0)
    # 15 s is the shortest choice offered; 2 s keeps the test short.
    monkeypatch.setattr(type(page), "max_seconds", property(lambda self: 2))
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(page.takes) == 1, timeout=20_000)
    assert page.takes[0].stop_reason == "max_length"
    assert page.takes[0].duration_us == 2_000_000
    assert "maximum length" in page.notice.text()


def test_quitting_mid_take_keeps_it_for_recovery(qtbot, page, studio):
    settings(studio.layout).setValue("record/countdown", 0)
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.state == "recording", timeout=10_000)
    qtbot.wait(1500)
    page.shutdown()   # what QCoreApplication.aboutToQuit runs
    assert page.session is None
    (offered,) = takes.unsaved_takes(studio.layout)
    assert offered.state == "finished" and offered.duration_us >= 1_000_000
