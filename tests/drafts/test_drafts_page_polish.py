"""The Drafts page as a creator meets it (issue 9): many files at once, renaming with Enter, the Trash,
one storage figure, `--open` with a short id, and a 1024x700 window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QFileDialog, QMessageBox, QWidget

from studio.drafts import DraftNotFound
from studio.ui.drafts_model import DraftRole
from studio.ui.launch import _open_draft
from studio.ui.main_window import MainWindow

BATCH = ["minimal.mp4", "chunk_out_of_range.mp4", "realshort.mp4", "short-cenc.mp4", "white.mp4"]


@pytest.fixture(autouse=True)
def _workers_done(qapp):
    """Let background reads finish inside the test, not while Qt tears down at exit."""
    yield
    from PySide6.QtCore import QThreadPool

    from studio.ui.drafts_model import thumbnail_pool

    for pool in (thumbnail_pool(), QThreadPool.globalInstance()):
        pool.waitForDone(20000)


def make_page(qtbot, studio, size=(1100, 800)):
    from studio.ui.pages.drafts import DraftsPage

    page = DraftsPage(studio)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    qtbot.waitUntil(lambda: page.store is not None, timeout=20000)
    return page


def drop(page, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    ev = QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    page.dropEvent(ev)
    return ev


def assert_batch_summary(text: str) -> None:
    assert text.startswith("3 drafts imported; 2 files refused: "), text
    assert "chunk_out_of_range.mp4" in text and "cannot be read" in text
    assert "short-cenc.mp4" in text and "encrypted" in text


def test_dropping_five_files_with_two_bad_keeps_three_and_names_both_bad(qtbot, studio, shared_media):
    page = make_page(qtbot, studio)
    assert drop(page, [shared_media / n for n in BATCH]).isAccepted()
    qtbot.waitUntil(lambda: page.last_import is not None, timeout=60000)
    assert_batch_summary(page.message.label.text())
    assert page.message.isVisible()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=20000)
    titles = sorted(page.model.index(r).data(DraftRole).title for r in range(3))
    assert titles == ["minimal", "realshort", "white"]
    qtbot.waitUntil(lambda: len(page.selected_ids()) == 3, timeout=5000)   # the new drafts are selected


def test_import_dialog_with_several_files_reports_the_same(qtbot, studio, shared_media):
    page = make_page(qtbot, studio)
    page.import_button.click()
    dlg = page.findChild(QFileDialog)
    assert dlg is not None and dlg.fileMode() == QFileDialog.ExistingFiles
    dlg.filesSelected.emit([str(shared_media / n) for n in BATCH])
    dlg.close()
    qtbot.waitUntil(lambda: page.last_import is not None, timeout=60000)
    assert_batch_summary(page.message.label.text())
    assert len(studio.drafts.list_drafts()) == 3


def test_enter_in_a_rename_renames_and_does_not_open_the_draft(qtbot, studio, shared_media):
    d = studio.drafts.import_files([shared_media / "minimal.mp4"], title="Before")
    page = make_page(qtbot, studio)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=20000)
    opened = []
    page.navigate.connect(lambda key, payload: opened.append((key, payload)))
    page.select_ids([d.id])
    page.view.setFocus()
    page.actions_by_name["rename"].trigger()
    editor = page.view.findChild(QWidget, "RenameEditor")
    assert editor is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor, timeout=5000)
    editor.selectAll()
    qtbot.keyClicks(editor, "Beach day")
    qtbot.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: studio.drafts.get(d.id).title == "Beach day", timeout=10000)
    assert opened == [], "Enter finished the rename; it did not also open the editor"
    # Enter on the card itself (not renaming) still opens it.
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key_Return)
    assert opened == [("editor", d.id)]


def test_trash_is_labelled_and_deletes_forever_after_asking(qtbot, studio, shared_media):
    keep = studio.drafts.import_files([shared_media / "minimal.mp4"], title="Keep")
    gone = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Gone")
    studio.drafts.delete([keep.id, gone.id])
    page = make_page(qtbot, studio)
    assert not page.trash_header.isVisible()
    page.trash_button.click()
    assert page.trash_header.isVisible()
    assert page.trash_header.text() == "Trash — drafts are deleted for good after 30 days"
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=20000)
    page.select_ids([gone.id])
    act = page.actions_by_name["purge"]
    assert act.isEnabled() and act.text().startswith("Delete forever")
    act.trigger()
    box = page.findChild(QMessageBox, "DeleteForeverBox")
    assert box is not None and "“Gone”" in box.text() and "cannot be undone" in box.text()
    cancel = box.button(QMessageBox.Cancel)
    cancel.click()
    assert studio.drafts.get(gone.id).deleted_at is not None, "Cancel keeps it in the Trash"
    act.trigger()
    box = [b for b in page.findChildren(QMessageBox, "DeleteForeverBox") if b.isVisible()][0]
    [forever] = [b for b in box.buttons() if b.text() == "Delete forever"]
    forever.click()
    qtbot.waitUntil(lambda: "for good" in page.message.label.text(), timeout=20000)
    with pytest.raises(DraftNotFound):
        studio.drafts.get(gone.id)
    assert studio.drafts.get(keep.id).deleted_at is not None, "only the chosen draft"
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=20000)
    page.trash_button.click()
    assert not page.trash_header.isVisible() and not page.actions_by_name["purge"].isEnabled()


def test_status_bar_and_drafts_footer_show_the_same_storage_figure(qtbot, studio, shared_media):
    w = MainWindow(studio)
    qtbot.addWidget(w)
    w.show()
    page = w.show_page("drafts")
    qtbot.waitUntil(lambda: "Drafts use" in page.storage_text.text(), timeout=20000)
    studio.drafts.import_files([shared_media / "cockatoo.mp4"])     # a few MB more: the figure changes
    qtbot.waitUntil(lambda: page.storage_text.text() != "Drafts use 0 MB"
                    and not page.storage_text.text().startswith("Drafts use 0 MB"), timeout=20000)
    qtbot.waitUntil(lambda: w.storage_label.text() == page.storage_text.text(), timeout=20000)


def test_open_accepts_a_short_id_and_explains_an_unknown_one_in_window_words(qtbot, studio, shared_media):
    d = studio.drafts.import_files([shared_media / "minimal.mp4"])
    w = MainWindow(studio)
    qtbot.addWidget(w)
    w.show()
    try:
        w.show_page("editor")
        _open_draft(studio, w, d.id[:6].upper())
        editor = w.page("editor")
        qtbot.waitUntil(lambda: getattr(getattr(editor, "session", None), "draft_id", None) == d.id
                        or getattr(editor, "_loading_id", None) == d.id, timeout=20000)
        assert w.current_page_key() == "editor"

        for given, words in (("0000000", "No draft has an id starting with “0000000”"),
                             ("ab", "is not a draft id"), ("not-an-id!", "is not a draft id")):
            _open_draft(studio, w, given)
            drafts = w.page("drafts")
            qtbot.waitUntil(lambda words=words: words in drafts.message.label.text(), timeout=20000)
            text = drafts.message.label.text()
            assert w.current_page_key() == "drafts" and drafts.message.isVisible()
            assert "studio " not in text and "`" not in text and "--" not in text, text
    finally:
        editor = w.page("editor")
        if hasattr(editor, "shutdown"):
            editor.shutdown()


def _outside_parent(root: QWidget) -> list[str]:
    bad = []
    for child in root.findChildren(QWidget):
        parent = child.parentWidget()
        if not child.isVisible() or parent is None or child.isWindow():
            continue
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
            continue   # the contents of a scroll area may scroll
        if not parent.rect().contains(child.geometry()):
            bad.append(f"{child.metaObject().className()} {child.objectName()!r} {child.geometry()} "
                       f"outside {parent.metaObject().className()} {parent.objectName()!r} {parent.rect()}")
    return bad


def test_drafts_page_is_usable_at_1024x700(qtbot, studio, shared_media):
    for n in ("minimal.mp4", "realshort.mp4", "white.mp4", "video_rotation_90.mp4"):
        studio.drafts.import_files([shared_media / n], title=f"A long title for {n} so it must elide")
    w = MainWindow(studio)
    qtbot.addWidget(w)
    w.resize(1024, 700)
    w.show()
    page = w.show_page("drafts")
    qtbot.waitUntil(lambda: page.model.rowCount() == 4, timeout=20000)
    page.message.show_message("3 drafts imported; 2 files refused: “chunk_out_of_range.mp4” cannot be read: "
                              "the file is damaged or incomplete. “short-cenc.mp4” is encrypted (DRM-protected) "
                              "media; it cannot be edited. Use the original, unprotected recording.", ("Undo", None))
    page.disk_warning.show_message("Only 1.2 GB free on this disk: new recordings and saves may not fit. "
                                   "Empty the Trash or free some space to keep your drafts safe.",
                                   ("Show Trash", None))
    for trash in (False, True):
        page.trash_button.setChecked(trash)
        qtbot.wait(200)
        QApplication.processEvents()
        assert w.width() <= 1024 and w.height() <= 700, "the page does not force a larger window"
        assert _outside_parent(w) == []
        assert not page.view.horizontalScrollBar().isVisible()
        assert page.view.viewport().width() > 0 and page.stack.height() > 150, "room for the cards"
