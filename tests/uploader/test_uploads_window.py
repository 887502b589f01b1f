"""The Uploads page in the real window: usable at 1024x700 (no horizontal scrolling, Copy link and Pause in
view, no widget outside its parent), and quitting mid-upload says "n uploads will continue next time"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QFrame, QWidget
from uploader_helpers import MiB, add_target, make_file


@pytest.fixture
def window(qtbot, studio):
    from studio.ui.main_window import MainWindow
    from studio.ui.uploads_controller import controller_for

    w = MainWindow(studio)
    qtbot.addWidget(w)
    yield w
    controller_for(studio, start=False).shutdown()


def outside_parent(root: QWidget) -> list[str]:
    """Visible widgets that stick out of their parent (a scrolled widget may be taller than its viewport)."""
    bad = []
    for w in root.findChildren(QWidget):
        parent = w.parentWidget()
        if w.isWindow() or parent is None or not w.isVisibleTo(root):
            continue
        g, r = w.geometry(), parent.rect()
        scrolled = isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport()
        inside = (g.left() >= r.left() and g.right() <= r.right()) if scrolled else r.contains(g)
        if not inside:
            bad.append(f"{type(w).__name__} {w.objectName()!r} {g} outside {type(parent).__name__} {r}")
    return bad


def in_view(button: QWidget, scroll) -> bool:  # noqa: ANN001 - QScrollArea
    top_left = button.mapTo(scroll.viewport(), QPoint(0, 0))
    return button.isVisible() and scroll.viewport().rect().contains(QRect(top_left, button.size()))


def test_uploads_page_is_usable_at_1024x700(qtbot, studio, s3_server, tmp_path, window):
    add_target(studio, s3_server, name="a-destination-with-a-rather-long-name", concurrency=1,
               bandwidth_limit=2 * MiB)
    long_title = "A very long reel title that goes on and on about the cockatoo on the balcony " * 2
    done = studio.uploads.enqueue_file(make_file(tmp_path / "done.mp4", 1 * MiB),
                                       "a-destination-with-a-rather-long-name", title=long_title)
    studio.uploads.run(until_idle=True, poll=0.05)
    live = studio.uploads.enqueue_file(make_file(tmp_path / "live.mp4", 25 * MiB),
                                       "a-destination-with-a-rather-long-name", title="Still uploading")
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    page = window.show_page("uploads")
    qtbot.waitUntil(lambda: live.id in page.rows and done.id in page.rows, timeout=20000)
    qtbot.waitUntil(lambda: page.rows[live.id].state.text() == "Uploading", timeout=30000)
    qtbot.wait(200)
    scroll = page.scroll
    assert not scroll.horizontalScrollBar().isVisible()
    assert page.list_box.width() <= scroll.viewport().width()
    assert in_view(page.rows[done.id].buttons["copy"], scroll)
    assert in_view(page.rows[live.id].buttons["pause"], scroll)
    assert outside_parent(window) == []
    # titles and dates, not keys or ids
    row = page.rows[done.id]
    assert row.title.toolTip() == long_title and "uploaded today" in row.where.text()
    assert done.key not in row.where.text() and done.id[:8] not in row.title.text()
    # the picker shows full names
    picker = page.file_target
    qtbot.waitUntil(lambda: picker.count() == 2, timeout=10000)
    assert picker.itemText(0) == "This computer"
    assert picker.width() >= picker.fontMetrics().horizontalAdvance("This computer")
    studio.uploads.pause(live.id)

    # clear finished: the finished row goes, the unfinished one stays
    qtbot.mouseClick(page.clear_finished, Qt.LeftButton)
    qtbot.waitUntil(lambda: done.id not in page.rows, timeout=10000)
    assert live.id in page.rows and "Cleared 1" in page.status.text()
    assert [j.id for j in studio.uploads.list()] == [live.id]


def test_quitting_mid_upload_says_they_continue_next_time(qtbot, studio, s3_server, tmp_path, window):
    from studio.ui.uploads_controller import controller_for

    add_target(studio, s3_server)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "later.mp4", 1 * MiB), "seaweed")
    studio.uploads.pause(job.id)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: controller_for(studio, start=False).unfinished == 1, timeout=10000)
    window.close()
    guard = controller_for(studio, start=False)._close_guard
    box = window.findChild(QFrame, "QuitNotice")
    assert window.isVisible() and box is not None and box.isVisible()
    assert guard.text.text() == "1 upload will continue next time you open Reel Studio."
    assert outside_parent(window) == []
    qtbot.mouseClick(guard.keep_button, Qt.LeftButton)
    assert window.isVisible() and not box.isVisible()
    window.close()
    assert box.isVisible()
    qtbot.mouseClick(guard.quit_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert studio.uploads.get(job.id).state == "PAUSED"   # kept for next time


def test_closing_again_while_the_notice_shows_quits(qtbot, studio, s3_server, tmp_path, window):
    """A second click on close, or the app quitting (Qt 6 closes every window), is not held up."""
    from studio.ui.uploads_controller import controller_for

    add_target(studio, s3_server)
    studio.uploads.pause(studio.uploads.enqueue_file(make_file(tmp_path / "x.mp4", 1 * MiB), "seaweed").id)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: controller_for(studio, start=False).unfinished == 1, timeout=10000)
    window.close()
    assert window.isVisible() and window.findChild(QFrame, "QuitNotice").isVisible()
    window.close()
    assert not window.isVisible()


def test_nothing_unfinished_closes_at_once(qtbot, studio, window):
    from studio.ui.uploads_controller import controller_for

    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(300)
    assert controller_for(studio, start=False).unfinished == 0
    window.close()
    assert not window.isVisible() and window.findChild(QFrame, "QuitNotice") is None
    QApplication.processEvents()
