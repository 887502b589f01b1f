"""pytest-qt: the Uploads page shows live progress from a real upload; pause and resume work."""

from __future__ import annotations

import pytest
from uploader_helpers import MiB, add_target, make_file


@pytest.fixture
def page(qtbot, studio):
    from studio.ui.pages.uploads import UploadsPage

    p = UploadsPage(studio)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.controller.shutdown()
    assert not p.controller.worker.is_running()


def test_page_shows_live_progress_and_pause_resume(qtbot, studio, s3_server, raw_s3, tmp_path, page):
    add_target(studio, s3_server, concurrency=1, bandwidth_limit=6 * MiB)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "page.mp4", 5 * 5 * MiB), "seaweed")
    updates = []
    page.controller.worker.progressChanged.connect(lambda j, p: updates.append(p.done))
    qtbot.waitUntil(lambda: job.id in page.rows, timeout=10000)
    row = page.rows[job.id]
    # live: the bar moves with acknowledged parts, with speed and ETA beside it
    qtbot.waitUntil(lambda: "/s" in row.speed.text() and 0 < row.bar.value() < 1000, timeout=20000)
    assert "ETA" in row.speed.text()

    qtbot.mouseClick(row.buttons["pause"], qtbot_left())
    qtbot.waitUntil(lambda: row.state.text() == "Paused", timeout=10000)
    qtbot.waitUntil(lambda: row.buttons["resume"].isVisible(), timeout=5000)
    qtbot.wait(1500)   # a part already on the wire finishes and is kept; nothing new starts
    paused_at = studio.uploads.get(job.id).bytes_done
    qtbot.wait(1500)
    assert studio.uploads.get(job.id).bytes_done == paused_at < job.size   # really paused
    assert studio.uploads.get(job.id).state == "PAUSED"

    qtbot.mouseClick(row.buttons["resume"], qtbot_left())
    qtbot.waitUntil(lambda: row.state.text() == "Uploaded", timeout=30000)
    assert row.bar.value() == 1000
    assert updates == sorted(updates)
    assert row.buttons["copy"].isVisible()
    from PySide6.QtWidgets import QApplication

    QApplication.clipboard().clear()
    qtbot.mouseClick(row.buttons["copy"], qtbot_left())
    qtbot.waitUntil(lambda: "X-Amz-Signature" in QApplication.clipboard().text(), timeout=5000)
    assert "until" in page.status.text()   # the link's expiry is shown
    done = studio.uploads.get(job.id)
    assert raw_s3.head_object(Bucket=done.bucket, Key=done.key)["ContentLength"] == done.size
    import urllib.request

    with urllib.request.urlopen(QApplication.clipboard().text(), timeout=30) as r:   # the link opens
        assert len(r.read()) == done.size


def test_offer_to_upload_a_draft_reports_what_went_wrong(qtbot, studio, page):
    page.activated({"draft_id": "0" * 32})
    assert page.draft_panel.isVisible()
    qtbot.waitUntil(lambda: page.draft_panel.targets.count() >= 1, timeout=5000)
    assert page.draft_panel.targets.currentText() == "This computer"
    qtbot.mouseClick(page.draft_panel.go, qtbot_left())
    qtbot.waitUntil(lambda: page.draft_panel.message.text() != "", timeout=10000)
    assert page.draft_panel.go.isEnabled()   # the user can try again


def test_a_draft_job_shows_the_drafts_cover(qtbot, studio, s3_server, shared_media, tmp_path, page):
    import shutil

    add_target(studio, s3_server)
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Cover")
    export = shutil.copy(shared_media / "realshort.mp4", tmp_path / "export.mp4")
    job = studio.uploads.enqueue_file(export, "seaweed", draft_id=draft.id, title=draft.title)
    qtbot.waitUntil(lambda: job.id in page.rows, timeout=10000)
    row = page.rows[job.id]
    assert row.title.text() == "Cover"
    # the generic upload icon (40x40) gives way to the draft's cover (the 9:16 reel frame), scaled into 48x48
    qtbot.waitUntil(lambda: (row.thumb.pixmap().width(), row.thumb.pixmap().height()) == (27, 48), timeout=15000)


def test_status_bar_follows_the_queue_and_resumes_pending_uploads(qtbot, studio, s3_server, tmp_path):
    from studio.ui.main_window import MainWindow
    from studio.ui.uploads_controller import controller_for

    add_target(studio, s3_server, concurrency=1, bandwidth_limit=8 * MiB)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "bar.mp4", 4 * 5 * MiB), "seaweed")
    w = MainWindow(studio)   # a pending upload: the window starts the worker by itself
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: w.uploads_label.text().startswith("Uploading 1:"), timeout=20000)
        qtbot.waitUntil(lambda: w.uploads_label.text() == "No uploads running", timeout=30000)
        assert studio.uploads.get(job.id).state == "COMPLETED"
    finally:
        controller_for(studio, start=False).shutdown()


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.LeftButton


def test_a_restart_from_zero_moves_the_bar_back_and_shows_why_and_the_webhook(qtbot, studio, s3_server, tmp_path):
    """Progress tells the truth: a new multipart upload (a restart) is not hidden behind the old maximum."""
    from dataclasses import replace

    from studio.ui.pages.uploads import JobRow

    add_target(studio, s3_server)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "r.mp4", 1000 * 1000), "seaweed")
    row = JobRow(replace(job, state="IN_PROGRESS", upload_id="first", bytes_done=job.size * 6 // 10))
    qtbot.addWidget(row)
    assert row.bar.value() == 600
    row.set_job(replace(job, state="IN_PROGRESS", upload_id="first", bytes_done=job.size // 2))
    assert row.bar.value() == 600   # the same upload never goes backwards
    why = "The file changed while it was uploading; the upload started again from zero with its new content."
    row.set_job(replace(job, state="IN_PROGRESS", upload_id="second", bytes_done=job.size // 10, notice=why))
    assert row.bar.value() == 100 and why in row.error.text()
    row.set_job(replace(job, state="COMPLETED", upload_id="second", bytes_done=job.size,
                        webhook_status="pending: the webhook could not be reached; next try in 5 s"))
    assert row.bar.value() == 1000 and "Webhook: pending" in row.error.text()
