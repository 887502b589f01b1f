"""pytest-qt: Post on the Uploads page builds and uploads the post with one line per stage, then the
post is one row that expands into its files, with Copy link and Open once live; Cancel stops a build."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from uploader_helpers import add_target


@pytest.fixture
def page(qtbot, studio):
    from studio.ui.pages.uploads import UploadsPage

    p = UploadsPage(studio)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.controller.shutdown()


def short_draft(studio, shared_media):
    return studio.drafts.import_files([shared_media / "realshort.mp4"], title="Short one").id


def test_post_shows_each_stage_then_a_live_row_with_its_files(qtbot, studio, s3_server, shared_media, page):
    from PySide6.QtWidgets import QApplication

    add_target(studio, s3_server, "cdn", public_base_url=f"{s3_server['endpoint']}/{s3_server['bucket']}")
    draft_id = short_draft(studio, shared_media)
    panel = page.draft_panel
    page.activated({"draft_id": draft_id, "title": "Short one"})
    qtbot.waitUntil(lambda: panel.targets.findData("cdn") >= 0, timeout=10000)
    panel.targets.setCurrentIndex(panel.targets.findData("cdn"))
    lines = []
    panel.publishing.stageChanged.connect(lambda _s, _f, text: lines.append(text))
    qtbot.mouseClick(panel.post, Qt.LeftButton)
    assert panel.cancel_post.isVisible() and not panel.post.isEnabled()
    qtbot.waitUntil(lambda: lines and lines[-1] == "Live", timeout=120000)
    stages = [t.split("…")[0].split(" ")[0] for t in lines]
    assert stages.index("Exporting") < stages.index("Building") < stages.index("Uploading") < len(stages) - 1
    assert any(t.startswith("Uploading ") and "files" in t for t in lines)
    assert "is live" in panel.message.text() and not panel.cancel_post.isVisible()

    post = studio.posts.list()[0]
    qtbot.waitUntil(lambda: post.id in page.post_rows and page.post_rows[post.id].state.text() == "Live",
                    timeout=10000)
    row = page.post_rows[post.id]
    assert not any(j.id in page.rows for j in post.jobs)    # its files are not rows of their own
    assert row.buttons["copy"].isVisible() and row.buttons["open"].isVisible()
    qtbot.mouseClick(row.buttons["files"], Qt.LeftButton)
    assert row.files.isVisible() and row.files.text().count("\n") + 1 == post.files_total
    assert "manifest.json" in row.files.text()
    QApplication.clipboard().clear()
    qtbot.mouseClick(row.buttons["copy"], Qt.LeftButton)
    qtbot.waitUntil(lambda: QApplication.clipboard().text().endswith("/index.html"), timeout=10000)
    assert QApplication.clipboard().text() == studio.posts.links(studio.posts.get(post.id))["share_url"]


def test_cancel_stops_the_build(qtbot, studio, s3_server, shared_media, page):
    add_target(studio, s3_server, "cdn")
    draft_id = short_draft(studio, shared_media)
    panel = page.draft_panel
    page.activated({"draft_id": draft_id, "title": "Short one"})
    qtbot.waitUntil(lambda: panel.targets.findData("cdn") >= 0, timeout=10000)
    panel.targets.setCurrentIndex(panel.targets.findData("cdn"))
    panel.publishing.stageChanged.connect(
        lambda stage, _f, _t: stage == "building" and panel.cancel_post.isVisible() and panel.cancel_post.click())
    with qtbot.waitSignal(panel.publishing.cancelled, timeout=120000):
        qtbot.mouseClick(panel.post, Qt.LeftButton)
    assert panel.message.text() == "Publishing was cancelled." and panel.post.isEnabled()
    assert studio.posts.list() == [] and studio.uploads.list() == []
