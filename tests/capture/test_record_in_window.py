"""The Record page inside the real main window: leaving it mid-take, recovered takes, a 1024×700 window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QThreadPool
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from studio.capture.session import RecordingSession, State
from studio.tasks import SynchronousPool
from studio.ui.dialogs import settings
from studio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, studio, monkeypatch):
    monkeypatch.setattr("studio.capture.devices.list_cameras", lambda: [])
    settings(studio.layout).setValue("record/countdown", 0)
    w = MainWindow(studio)
    qtbot.addWidget(w)
    w.show_page("record")
    w.show()
    page = w.page("record")
    page.size_box.setCurrentIndex(0)
    qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20_000)
    yield w
    page.shutdown()
    QThreadPool.globalInstance().waitForDone(20_000)


def test_switching_pages_keeps_recording_and_the_badge_tells_the_truth(qtbot, window):
    page = window.page("record")
    page.toggle_record()
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    window.show_page("drafts")
    assert not page.isVisible()
    qtbot.waitUntil(lambda: page.session.elapsed_seconds() >= 2.0, timeout=15_000)
    assert page.session.state is State.RECORDING          # leaving the page did not cut the take
    assert "●" in window.sidebar.item(0).text() and "REC 00:0" in window.sidebar.item(0).toolTip()
    assert window.activity_label.text().startswith("● REC 00:0") and not window.activity_label.isHidden()

    window.show_page("record")
    qtbot.waitUntil(lambda: page.preview.recording_time not in (None, "00:00", "00:01"), timeout=5_000)
    page.toggle_record()
    qtbot.waitUntil(lambda: page.session.state is State.READY and bool(page.session.takes), timeout=20_000)
    (take,) = page.session.takes
    assert take.duration_us >= 2_000_000
    assert page.preview.recording_time is None            # no stale "● REC" badge
    assert window.sidebar.item(0).text().strip() == "Record" and window.activity_label.isHidden()


def test_a_take_that_ends_while_away_releases_the_camera_and_clears_the_badge(qtbot, window, monkeypatch):
    page = window.page("record")
    monkeypatch.setattr(type(page), "max_seconds", property(lambda self: 1))
    page.toggle_record()
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    window.show_page("uploads")
    qtbot.waitUntil(lambda: bool(page.session.takes) and page.session.capture is None, timeout=20_000)
    assert page.session.state is State.CLOSED
    assert window.sidebar.item(0).text().strip() == "Record"
    window.show_page("record")                             # coming back opens the camera again
    qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20_000)
    assert page.strip.count() == 1


def test_recovered_takes_are_offered_on_the_record_page(qtbot, studio, monkeypatch, qapp):
    # An earlier session recorded a take and quit without saving it.
    earlier = RecordingSession(studio, pool=SynchronousPool())
    earlier.countdown_seconds = 0
    earlier.open("synthetic", size=(320, 180))
    earlier.start()
    qtbot.wait(1000)
    earlier.stop()
    earlier.shutdown()
    studio.drafts.recover()    # what opening the store at start-up does

    monkeypatch.setattr("studio.capture.devices.list_cameras", lambda: [])
    from studio.ui.pages.record import RecordPage

    page = RecordPage(studio)
    qtbot.addWidget(page)
    page.size_box.setCurrentIndex(0)
    page.show()
    qtbot.waitUntil(lambda: page.recovered_bar.isVisible(), timeout=10_000)
    assert "1 unsaved take" in page.recovered_bar.label.text()
    add = page.recovered_bar.buttons[0]
    assert add.text() == "Add to takes"
    add.click()
    qtbot.waitUntil(lambda: page.strip.count() == 1, timeout=10_000)
    assert len(page.session.takes) == 1 and "1 recovered take added" in page.notice.text()
    qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20_000)
    assert page.save_button.isEnabled() and page.play_button.isEnabled()
    page.shutdown()


def _outside_parent(root: QWidget) -> list[str]:
    bad = []
    for child in root.findChildren(QWidget):
        parent = child.parentWidget()
        if parent is None or not child.isVisible() or child.isWindow():
            continue
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
            continue   # a list's own items scroll inside its viewport by design
        if not QRect(0, 0, parent.width(), parent.height()).contains(child.geometry()):
            bad.append(f"{child.metaObject().className()} {child.objectName()!r} {child.geometry()} "
                       f"in {parent.metaObject().className()} {parent.objectName()!r} {parent.size()}")
        fixed = child.minimumWidth() == child.maximumWidth()   # sized on purpose (e.g. a ✕ button)
        hint = child.minimumSizeHint()
        if not fixed and (child.width() < hint.width() or child.height() < hint.height()):
            bad.append(f"clipped: {child.metaObject().className()} {child.objectName()!r} {child.size()} < "
                       f"{child.minimumSizeHint()}")
    return bad


@pytest.fixture
def themed(qapp):
    """The app's real look (fonts, paddings, minimum widths), as the creator sees it; restored after."""
    from studio.ui import theme

    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    theme.apply(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_the_record_page_fits_a_1024_by_700_window(qtbot, themed, window, studio):
    page = window.page("record")
    page.toggle_record()
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    qtbot.wait(600)
    page.toggle_record()
    qtbot.waitUntil(lambda: bool(page.session.takes), timeout=20_000)
    page.session.delete_take(0)               # the undo bar shows too
    page.recovered_bar.show_message("1 unsaved take from an earlier session was found.",
                                    ("Add to takes", lambda: None), ("Discard…", lambda: None))
    page.toggle_record()                      # and the REC marks in the sidebar and status bar
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.size().width() == 1024 and window.size().height() == 700, timeout=5_000)
    qtbot.waitUntil(lambda: "●" in window.sidebar.item(0).text(), timeout=5_000)
    qtbot.wait(200)
    assert page.undo_bar.isVisible() and page.recovered_bar.isVisible()
    assert _outside_parent(window.centralWidget()) == []   # the page, and the page within the window
    scrolling = [a.objectName() or a.metaObject().className() for a in window.findChildren(QAbstractScrollArea)
                 if a.isVisible() and a.horizontalScrollBar().isVisible()]
    assert scrolling == []
    assert page.preview.height() >= 200 and page.preview.width() >= 360
    page.toggle_record()
    qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20_000)


@pytest.mark.slow
def test_post_from_the_record_page_is_one_press(qtbot, window, studio):
    page = window.page("record")
    page.toggle_record()
    qtbot.waitUntil(lambda: page.session.state is State.RECORDING, timeout=10_000)
    qtbot.wait(1000)
    page.toggle_record()
    qtbot.waitUntil(lambda: bool(page.session.takes), timeout=20_000)
    page.post_button.click()
    qtbot.waitUntil(lambda: window.current_page_key() == "uploads", timeout=30_000)
    panel = window.page("uploads").draft_panel
    (draft,) = studio.drafts.list_drafts()
    assert panel.label.text() == f"Upload “{draft.title}”"
    # No second press: Post itself builds the post (export, qualities) and uploads it until it is live.
    qtbot.waitUntil(lambda: [p.draft_id for p in studio.posts.list()] == [draft.id], timeout=30_000)
    qtbot.waitUntil(lambda: "is live on" in panel.message.text(), timeout=240_000)
    assert panel.message.text().startswith(f"“{draft.title}” is live on This computer")
