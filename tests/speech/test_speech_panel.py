"""The Editor's speech panel as a creator uses it: Captions → Auto captions (progress, then the
words), a style preset, Find silences (red marks on the timeline) → Remove them, then Undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from editor_page import shown_editor_page


@pytest.fixture
def page(qtbot, studio):
    yield from shown_editor_page(qtbot, studio, width=1300)


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


def test_caption_lines_are_corrected_split_and_merged_and_a_voiceover_needs_a_microphone(
        qtbot, page, studio, shared_media) -> None:
    """The words the engine misheard are fixed in the panel (their timing kept), lines regrouped;
    each change is one undo step. This machine has no microphone: the voiceover says so."""
    from studio.editor.captions import set_transcript
    from studio.editor.commands import EditCaptions

    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    page.open_draft(draft.id)
    qtbot.waitUntil(lambda: page.session is not None, timeout=30_000)
    words = [("fresh", 0, 300_000), ("pasta", 300_000, 600_000), ("and", 600_000, 700_000),
             ("hound", 700_000, 1_000_000)]
    page.session.do(EditCaptions, "Auto captions", lambda e: set_transcript(e, words))
    panel = page.speech_panel
    page.captions_button.click()
    assert panel.lines.count() >= 1 and panel.lines.isVisible()
    panel.lines.setCurrentRow(0)
    assert panel.line_edit.text().split()[:4] == ["fresh", "pasta", "and", "hound"]

    panel.line_edit.setText("fresh pasta at home")
    panel.retype_line()
    seg = page.session.edit.captions.segments[0]
    assert [w.text for w in seg.words] == ["fresh", "pasta", "at", "home"]
    assert [(w.start_us, w.end_us) for w in seg.words] == [(a, b) for _t, a, b in words], "timing kept"

    panel.line_edit.setText("fresh pasta at home today")
    panel.retype_line()
    assert "type 4 words" in panel.status.text()
    assert [w.text for w in page.session.edit.captions.segments[0].words][-1] == "home", "nothing changed"

    panel.lines.setCurrentRow(0)
    panel.line_edit.setCursorPosition(len("fresh pasta "))
    panel.split_line()
    segs = page.session.edit.captions.segments
    assert [[w.text for w in s.words] for s in segs] == [["fresh", "pasta"], ["at", "home"]]
    assert panel.lines.count() == 2
    panel.lines.setCurrentRow(0)
    panel.merge_line()
    assert len(page.session.edit.captions.segments) == 1
    page.undo()
    assert len(page.session.edit.captions.segments) == 2, "the merge was one undo step"

    panel.voice_button.click()
    if not page.editor.recording_voiceover:   # no microphone here: a sentence, the button back up
        qtbot.waitUntil(lambda: panel.voice_label.text() != "", timeout=10_000)
        assert not panel.voice_button.isChecked()
    else:
        panel.voice_button.click()
