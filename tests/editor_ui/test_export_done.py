"""After an export, in the Editor and the Drafts tray: the file is in the Videos (or chosen) folder under
the draft's title, and a bar offers "Play" (opens the file) and "Show in folder" (opens the folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

US = 1_000_000


@pytest.fixture
def opened(monkeypatch):
    """The desktop's opener is what this machine lacks (no file manager, no player): record the URLs."""
    from studio.ui.export_done import ExportDoneBar

    urls = []
    monkeypatch.setattr(ExportDoneBar, "opener", staticmethod(lambda url: urls.append(url) or True))
    return urls


@pytest.fixture
def exports(tmp_path, monkeypatch):
    folder = tmp_path / "Videos"
    monkeypatch.setenv("STUDIO_EXPORT_DIR", str(folder))
    return folder


def check_bar(qtbot, bar, expected: Path, opened) -> None:  # noqa: ANN001
    assert bar.isVisible() and expected.name in bar.label.text()
    qtbot.mouseClick(bar.play, Qt.LeftButton)
    qtbot.mouseClick(bar.folder, Qt.LeftButton)
    assert [Path(u.toLocalFile()) for u in opened] == [expected, expected.parent]
    qtbot.mouseClick(bar.close_button, Qt.LeftButton)
    assert not bar.isVisible()


def test_editor_export_lands_in_videos_with_play_and_show_in_folder(qtbot, studio, shared_media, exports, opened):
    from studio.editor.commands import TrimClip
    from studio.ui.pages.editor import EditorPage

    draft = studio.drafts.import_files([shared_media / "cockatoo_yuv420.mp4"], title="Cockatoo")
    page = EditorPage(studio)
    qtbot.addWidget(page)
    page.resize(1200, 820)
    page.show()
    try:
        page.activated(draft.id)
        qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace, timeout=20_000)
        page.session.do(TrimClip, page.session.edit.clips[0].id, in_us=0, out_us=US)
        qtbot.mouseClick(page.export_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: page.export_job is not None, timeout=10_000)
        with qtbot.waitSignal(page.export_job.finished, timeout=90_000):
            pass
        expected = exports / "Cockatoo.mp4"
        qtbot.waitUntil(lambda: page.export_done.isVisible(), timeout=5_000)
        assert expected.is_file() and page.export_done.path == expected
        assert not list(studio.layout.staging.glob("*.mp4"))   # not in the cache any more
        check_bar(qtbot, page.export_done, expected, opened)
    finally:
        page.shutdown()


def test_drafts_tray_export_offers_play_and_show_in_folder(qtbot, studio, shared_media, exports, opened):
    from studio.ui.pages.drafts import DraftsPage

    d = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Short one")
    (exports).mkdir()
    (exports / "Short one.mp4").write_bytes(b"an older export")   # never overwritten
    page = DraftsPage(studio)
    qtbot.addWidget(page)
    page.resize(1100, 800)
    page.show()
    qtbot.waitUntil(lambda: page.store is not None and page.model.rowCount() >= 1, timeout=20000)
    page.select_ids([d.id])
    page.actions_by_name["export"].trigger()
    expected = exports / "Short one (2).mp4"
    qtbot.waitUntil(lambda: page.export_done.isVisible(), timeout=90_000)
    assert expected.is_file() and (exports / "Short one.mp4").read_bytes() == b"an older export"
    check_bar(qtbot, page.export_done, expected, opened)
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(20000)
