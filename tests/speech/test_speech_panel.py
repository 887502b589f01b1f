"""The Editor's speech panel as a creator uses it: Captions → Auto captions (progress, then the
words), a style preset, Find silences (red marks on the timeline) → Remove them, then Undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def page(qtbot, studio):
    from studio.ui.pages.editor import EditorPage

    p = EditorPage(studio)
    qtbot.addWidget(p)
    p.resize(1300, 820)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def test_auto_captions_style_and_remove_silences_from_the_panel(qtbot, page, studio, talking_head) -> None:
    draft = studio.drafts.import_files([talking_head.path])
    page.open_draft(draft.id)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace and page.session is not None, timeout=30_000)
    panel = page.speech_panel
    assert not panel.isVisible()
    qtbot.mouseClick(page.captions_button, Qt.MouseButton.LeftButton)
    assert panel.isVisible()

    seen = []
    page.editor.captions_progress.connect(seen.append)
    panel.captions_button.click()     # (the panel was just laid out: a synthetic mouse click may miss it)
    assert panel.progress.isVisible() and panel.cancel_button.isVisible() and not panel.captions_button.isEnabled()
    qtbot.waitUntil(lambda: len(page.session.edit.captions.words) > 15, timeout=120_000)
    assert seen and not panel.progress.isVisible() and "Added" in panel.status.text()
    assert panel.captions_button.text() == "Redo captions"

    panel.preset.setCurrentIndex(panel.preset.findData("box"))
    assert page.session.edit.captions.style.preset == "box"

    before = page.session.edit.duration_us
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.timeline.silence_cuts), timeout=60_000)
    assert page.session.edit.duration_us == before, "the proposal is only shown"
    assert panel.apply_button.isVisible() and "silences" in panel.silence_label.text()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert page.session.edit.duration_us < before - 1_500_000
    assert page.timeline.silence_cuts == [] and not panel.apply_button.isVisible()
    page.undo()
    assert page.session.edit.duration_us == before
    assert page.session.edit.captions.style.preset == "box", "one undo step took back only the cuts"
