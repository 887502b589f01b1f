"""pytest-qt drives the Record page like a creator: the wiring between widgets and RecordingSession.

(The record workflow itself is tested through the session in test_recording_session.py.)
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QApplication, QPushButton

from studio.capture import takes
from studio.capture.session import State
from studio.ui.dialogs import settings


def _wait_idle(page) -> None:
    page.session._camera_pool.waitForDone(20_000)
    QThreadPool.globalInstance().waitForDone(20_000)


@pytest.fixture
def page(qtbot, studio, monkeypatch):
    monkeypatch.setattr("studio.capture.devices.list_cameras", lambda: [])
    from studio.ui.pages.record import RecordPage

    p = RecordPage(studio)
    qtbot.addWidget(p)
    p.size_box.setCurrentIndex(0)   # 640x360 keeps the shared CI machine relaxed
    p.resize(1100, 720)
    p.show()
    p.activateWindow()
    qtbot.waitUntil(lambda: p.session.state is State.READY, timeout=20_000)
    yield p
    p.hide()   # releases the camera in the background, like leaving the page
    _wait_idle(p)


def record_one(qtbot, page, seconds_ms: int = 1200) -> None:
    n = len(page.session.takes)
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    qtbot.wait(seconds_ms)
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.session.state is State.READY and len(page.session.takes) == n + 1, timeout=20_000)


def test_countdown_record_stop_save_from_the_keyboard(qtbot, page, studio):
    assert "No camera" in page.notice.text() and "test pattern" in page.notice.text()
    assert page.source_box.currentData() == "synthetic"
    qtbot.waitUntil(lambda: page.preview.image is not None, timeout=5_000)
    assert page.preview.guide_rect().width() / page.preview.guide_rect().height() == pytest.approx(9 / 16)

    page.setFocus()
    qtbot.keyClick(page, Qt.Key_Space)
    assert page.session.state is State.COUNTDOWN and page.preview.countdown == 3
    assert page.record_button.text() == "Cancel"
    qtbot.waitUntil(lambda: page.preview.countdown == 2, timeout=2_500)
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=5_000)
    assert page.record_button.text() == "Stop"
    qtbot.waitUntil(lambda: page.timer_label.text().startswith("00:01"), timeout=5_000)
    assert page.preview.recording_time.startswith("00:0")
    qtbot.keyClick(page, Qt.Key_R)    # stop from the keyboard too
    qtbot.waitUntil(lambda: len(page.session.takes) == 1 and page.session.state is State.READY, timeout=20_000)
    assert page.preview.recording_time is None
    assert page.strip.count() == 1 and page.save_button.isEnabled()

    with qtbot.waitSignal(page.session.saved, timeout=30_000) as saved:
        qtbot.keyClick(page, Qt.Key_S, Qt.ControlModifier)
    draft = studio.drafts.get(saved.args[0].id)
    assert len(draft.assets) == 1 and draft.assets[0].has_audio
    assert page.strip.count() == 0 and "Saved as draft" in page.notice.text()
    assert takes.unsaved_takes(studio.layout) == []


def test_shortcuts_work_wherever_the_focus_is_on_the_page(qtbot, page, studio):
    settings(studio.layout).setValue("record/countdown", 0)
    for widget in (page.length_box, page.strip, page.mic_box):
        widget.setFocus()
        qtbot.waitUntil(lambda w=widget: QApplication.focusWidget() is w, timeout=2_000)
        qtbot.keyClick(widget, Qt.Key_Space)
        qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
        qtbot.wait(500)
        qtbot.keyClick(widget, Qt.Key_Space)
        qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20_000)
    assert len(page.session.takes) == 3
    assert not page.length_box.view().isVisible()   # Space did not open the list instead

    # After Save the focus stays on the page: Space records again (it used to switch pages).
    page.save_button.setFocus(Qt.TabFocusReason)
    qtbot.keyClick(page.save_button, Qt.Key_S, Qt.ControlModifier)
    qtbot.waitUntil(lambda: page.session.state is State.READY and not page.session.takes, timeout=30_000)
    focus = QApplication.focusWidget()
    assert focus is page or page.isAncestorOf(focus)
    qtbot.keyClick(focus, Qt.Key_Space)
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    focus = QApplication.focusWidget()   # the combos are locked while recording: it stays on the page
    assert focus is page or page.isAncestorOf(focus)
    qtbot.wait(500)
    qtbot.keyClick(focus, Qt.Key_Space)
    qtbot.waitUntil(lambda: len(page.session.takes) == 1, timeout=20_000)


def test_delete_take_has_undo_and_the_file_goes_when_the_bar_closes(qtbot, page, studio):
    settings(studio.layout).setValue("record/countdown", 0)
    record_one(qtbot, page, 800)
    record_one(qtbot, page, 800)
    first, second = page.session.takes
    page.strip.setCurrentRow(0)
    qtbot.mouseClick(page.delete_button, Qt.LeftButton)
    assert page.strip.count() == 1 and page.undo_bar.isVisible() and first.dir.exists()
    (undo,) = [b for b in page.undo_bar.buttons if b.isVisible()]
    assert undo.text() == "Undo"
    qtbot.mouseClick(undo, Qt.LeftButton)
    assert page.session.takes == [first, second] and page.strip.count() == 2

    page.strip.setCurrentRow(1)
    page.strip.setFocus()
    qtbot.keyClick(page.strip, Qt.Key_Delete)
    assert page.session.takes == [first]
    (close,) = [b for b in page.undo_bar.findChildren(QPushButton) if b.toolTip() == "Dismiss"]
    qtbot.mouseClick(close, Qt.LeftButton)     # closing the undo window
    qtbot.waitUntil(lambda: not second.dir.exists(), timeout=10_000)
    assert first.dir.exists()


def test_a_take_plays_in_place_before_keeping_it(qtbot, page, studio):
    settings(studio.layout).setValue("record/countdown", 0)
    record_one(qtbot, page, 1500)
    live = page.session.capture.mailbox
    qtbot.mouseClick(page.play_button, Qt.LeftButton)
    assert page.session.player is not None and page.play_button.text() == "Stop playing"
    player = page.session.player
    qtbot.waitUntil(lambda: player.frames_shown >= 10, timeout=10_000)
    assert page.session.mailbox() is player.mailbox is not live
    seq = page._seq
    qtbot.waitUntil(lambda: page._seq != seq, timeout=5_000)   # the preview paints the take's frames
    assert page.preview.playing == "Take 1" and not page.preview.grab().isNull()
    qtbot.waitUntil(lambda: page.session.player is None, timeout=15_000)
    assert page.play_button.text() == "Play take" and player.error is None and page.preview.playing is None
    assert page.session.mailbox() is live


def test_post_is_one_press_and_names_the_draft(qtbot, page, studio):
    settings(studio.layout).setValue("record/countdown", 0)
    record_one(qtbot, page)
    with qtbot.waitSignal(page.navigate, timeout=30_000) as nav:
        qtbot.mouseClick(page.post_button, Qt.LeftButton)
    key, payload = nav.args
    draft = studio.drafts.get(payload["draft_id"])
    assert key == "uploads" and payload["start"] is True and payload["title"] == draft.title

    record_one(qtbot, page)
    with qtbot.waitSignal(page.navigate, timeout=30_000) as nav:
        qtbot.mouseClick(page.edit_button, Qt.LeftButton)
    assert nav.args[0] == "editor" and studio.drafts.get(nav.args[1]).assets

    settings(studio.layout).setValue("record/confirm_discard", False)
    record_one(qtbot, page)
    qtbot.mouseClick(page.discard_button, Qt.LeftButton)
    _wait_idle(page)
    assert page.session.takes == [] and list(studio.layout.takes.iterdir()) == []


def test_source_picker_offers_a_video_file_and_the_sound_choice(qtbot, page, shared_media):
    specs = [page.source_box.itemData(i) for i in range(page.source_box.count())]
    assert "file-pick" in specs and "synthetic" in specs
    sounds = [page.mic_box.itemData(i) for i in range(page.mic_box.count())]
    assert "none" in sounds
    page.use_file_as_camera(shared_media / "cockatoo.mp4")
    qtbot.waitUntil(lambda: page.session.state is State.READY and page.session.source_spec.startswith("file:"),
                    timeout=20_000)
    assert page.source_box.currentText() == "cockatoo.mp4"
    assert page.session.capture.source.name == "cockatoo.mp4"
    page.mic_box.setCurrentIndex(page.mic_box.findData("none"))
    page.reopen()
    qtbot.waitUntil(lambda: page.session.state is State.READY and "Sound is off" in page.sound_label.text(),
                    timeout=20_000)


def test_quitting_mid_take_keeps_it_for_recovery(qtbot, page, studio):
    settings(studio.layout).setValue("record/countdown", 0)
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    qtbot.wait(1500)
    page.shutdown()   # what QCoreApplication.aboutToQuit runs
    assert page.session.capture is None
    (offered,) = takes.unsaved_takes(studio.layout)
    assert offered.state == "finished" and offered.duration_us >= 1_000_000


def test_max_length_stops_the_take_by_itself(qtbot, page, studio, monkeypatch):
    settings(studio.layout).setValue("record/countdown", 0)
    # 15 s is the shortest choice offered; 2 s keeps the test short.
    monkeypatch.setattr(type(page), "max_seconds", property(lambda self: 2))
    qtbot.mouseClick(page.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(page.session.takes) == 1, timeout=20_000)
    assert page.session.takes[0].stop_reason == "max_length"
    assert page.session.takes[0].duration_us == 2_000_000
    assert "maximum length" in page.notice.text()


def test_a_source_that_cannot_open_says_so_and_offers_the_test_pattern(qtbot, page, tmp_path):
    broken = tmp_path / "not-a-video.mp4"
    broken.write_bytes(b"this is not a video")
    page.use_file_as_camera(broken)
    qtbot.waitUntil(lambda: page.session.state is State.CLOSED and bool(page.preview.message), timeout=20_000)
    assert "cannot be played as a camera" in page.preview.message
    assert "test pattern is available" in page.notice.text()
    assert page.record_button.isEnabled() is False and page.source_box.isEnabled()
    page.source_box.setCurrentIndex(page.source_box.findData("synthetic"))
    page.reopen()
    qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20_000)
    assert page.preview.message == ""
