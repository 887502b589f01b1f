"""The Drafts page with pytest-qt: 5,000 drafts, placeholders then thumbnails, actions, undo, drops."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio.ui.drafts_model import PAGE, DraftRole

from helpers_drafts import make_take



@pytest.fixture(autouse=True)
def _workers_done(qapp):
    """Let background reads finish inside the test, not while Qt tears down at exit."""
    yield
    from PySide6.QtCore import QThreadPool

    from studio.ui.drafts_model import thumbnail_pool

    for pool in (thumbnail_pool(), QThreadPool.globalInstance()):
        pool.waitForDone(20000)


def bulk_drafts(studio, shared_media, n: int) -> list[str]:
    """One real imported draft (real asset, thumbnail, LQIP) plus n-1 rows sharing its media."""
    from seeding import seed_drafts

    real = studio.drafts.import_files([shared_media / "minimal.mp4"], title="Real one")
    assert real.lqip
    return [real.id, *seed_drafts(studio, real, n - 1)]


def make_page(qtbot, studio):
    from studio.ui.pages.drafts import DraftsPage

    page = DraftsPage(studio)
    qtbot.addWidget(page)
    page.resize(1100, 800)
    page.show()
    qtbot.waitUntil(lambda: page.store is not None, timeout=20000)
    return page


def wait_rows(qtbot, page, n=1):
    qtbot.waitUntil(lambda: page.model.rowCount() >= n, timeout=20000)


def test_5000_drafts_load_lazily_newest_first_with_placeholders_then_thumbnails(qtbot, studio, shared_media,
                                                                               monkeypatch):
    ids = bulk_drafts(studio, shared_media, 5000)
    store = studio.drafts
    for f in studio.layout.thumbs.iterdir():
        f.unlink()
    gate = threading.Event()
    real_thumbnail = store.thumbnail
    monkeypatch.setattr(store, "thumbnail", lambda d: gate.wait(20) and real_thumbnail(d))
    page = make_page(qtbot, studio)
    wait_rows(qtbot, page)
    assert page.model.rowCount() == PAGE, "one page, not 5,000 rows"
    assert [page.model.draft_at(i).id for i in range(3)] == ids[:3]
    qtbot.waitUntil(lambda: page.delegate.painted_placeholders > 0, timeout=10000)
    assert page.delegate.painted_thumbnails == 0, "blur placeholders paint before any thumbnail"
    gate.set()
    qtbot.waitUntil(lambda: page.delegate.painted_thumbnails > 0, timeout=20000)
    assert any(p.is_file() for p in studio.layout.thumbs.iterdir()), "the thumbnail was rebuilt on demand"
    for _ in range(5):
        before = page.model.rowCount()
        # The view asks for more when its scroll bar reaches the end (once the batched layout caught up).
        qtbot.waitUntil(lambda: (page.view.scrollToBottom(), page.model.rowCount() > before)[1], timeout=10000)
    assert PAGE * 2 <= page.model.rowCount() < 5000
    assert page.model.draft_at(page.model.rowCount() - 1).id == ids[page.model.rowCount() - 1]
    page.search.setText("Draft 4998")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    assert page.model.draft_at(0).title == "Draft 4998"


def test_context_actions_and_undo_of_delete(qtbot, studio, shared_media):
    store = studio.drafts
    a = store.import_files([shared_media / "minimal.mp4"], title="Alpha")
    b = store.import_files([shared_media / "realshort.mp4"], title="Beta")
    page = make_page(qtbot, studio)
    wait_rows(qtbot, page, 2)
    acts = page.actions_by_name
    assert acts["rename"].shortcut().toString() == "F2" and acts["duplicate"].shortcut().toString() == "Ctrl+D"
    assert acts["delete"].shortcut().matches(Qt.Key_Delete)

    page.select_ids([a.id])
    with qtbot.waitSignal(page.navigate) as sig:
        acts["open"].trigger()
    assert sig.args == ["editor", a.id]
    with qtbot.waitSignal(page.navigate) as sig:
        acts["upload"].trigger()
    assert sig.args == ["uploads", {"draft_id": a.id}]

    page.model.setData(page.model.index(page.model.row_of(a.id)), "Alpha renamed")
    qtbot.waitUntil(lambda: store.get(a.id).title == "Alpha renamed", timeout=10000)

    page.select_ids([b.id])
    acts["duplicate"].trigger()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=10000)
    assert any(page.model.draft_at(i).title == "Beta (copy)" for i in range(3))

    page.select_ids([a.id, b.id])
    assert page.selected_ids() and set(page.selected_ids()) == {a.id, b.id}
    acts["delete"].trigger()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    assert page.message.isVisible() and "moved to the Trash" in page.message.label.text()
    assert {d.id for d in store.list_drafts(trashed=True)} == {a.id, b.id}
    undo = page.message.buttons[0]
    assert undo.text() == "Undo"
    undo.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=10000)
    assert store.list_drafts(trashed=True) == []


def test_export_runs_in_the_background_with_progress_and_cancel(qtbot, studio, shared_media, monkeypatch):
    d = studio.drafts.import_files([shared_media / "minimal.mp4"])
    page = make_page(qtbot, studio)
    wait_rows(qtbot, page)
    page.select_ids([d.id])
    import studio.editor.export as export_mod

    started = threading.Event()

    def fake_export(studio_, draft_id, out=None, *, on_progress=None, cancel=None, **_options):
        assert draft_id == d.id
        on_progress(0.25, 3.0)
        started.set()
        assert cancel.wait(20)
        raise export_mod.ExportCancelled()

    monkeypatch.setattr(export_mod, "export_draft", fake_export)
    page.actions_by_name["export"].trigger()
    qtbot.waitUntil(lambda: page.export_progress.value() == 250, timeout=10000)
    assert page.export_bar.isVisible() and "25%" in page.export_label.text()
    page.export_cancel_button.click()
    qtbot.waitUntil(lambda: not page.export_bar.isVisible(), timeout=10000)
    assert "cancelled" in page.message.label.text()


def drop(page, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    ev = QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    page.dropEvent(ev)
    return ev


def test_drag_and_drop_import_and_refusal(qtbot, studio, shared_media):
    page = make_page(qtbot, studio)
    qtbot.waitUntil(lambda: "No drafts yet" in page.empty.text(), timeout=10000)
    assert page.stack.currentWidget() is page.empty
    drop(page, [shared_media / "short-cenc.mp4"])
    qtbot.waitUntil(lambda: "encrypted" in page.message.label.text(), timeout=20000)
    assert studio.drafts.list_drafts() == []
    ev = drop(page, [shared_media / "video_rotation_90.mp4"])
    assert ev.isAccepted()
    wait_rows(qtbot, page)
    d = page.model.index(0).data(DraftRole)
    assert d.title == "video_rotation_90" and (d.assets[0].width, d.assets[0].height) == (60, 100)
    assert page.stack.currentWidget() is page.view


def test_unsaved_takes_banner_saves_them(qtbot, studio, shared_media):
    take = make_take(studio.layout, shared_media, "minimal.mp4", "left-over")
    page = make_page(qtbot, studio)
    assert page.takes_banner.isVisible() and "Unsaved takes found" in page.takes_banner.label.text()
    save = page.takes_banner.buttons[0]
    assert save.text() == "Save as drafts"
    save.click()
    wait_rows(qtbot, page)
    assert not take.exists() and not take.parent.exists()
    assert studio.drafts.recover()["unsaved_takes"] == []
    qtbot.waitUntil(lambda: "Drafts use" in page.storage_text.text(), timeout=10000)


def test_low_disk_space_warning(qtbot, studio, monkeypatch):
    import studio.drafts.store as store_mod

    monkeypatch.setattr(store_mod, "RISK_FREE_BYTES", 1 << 60)
    page = make_page(qtbot, studio)
    qtbot.waitUntil(lambda: page.disk_warning.isVisible(), timeout=10000)
    assert "free" in page.disk_warning.label.text() and "keep your drafts safe" in page.disk_warning.label.text()
