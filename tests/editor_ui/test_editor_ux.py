"""Editing like CapCut: the timeline toolbar and its shortcuts (split, delete, duplicate, snapping,
zoom), a wheel that scrolls instead of moving sliders, Redo on Linux, typing after "Add text",
reel settings one click away, a timeline as long as the video, the "Edited" state and the title
following the document, and a layout that holds at 1024×700."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QKeySequence, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

US = 1_000_000


@pytest.fixture
def window(qtbot, studio):
    from studio.ui.main_window import MainWindow

    win = MainWindow(studio)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for p in win._pages.values():
        if hasattr(p, "shutdown"):
            p.shutdown()


def open_draft(qtbot, page, draft_id: str) -> None:
    page.activated(draft_id)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace, timeout=20_000)
    qtbot.waitUntil(lambda: page.viewport.image is not None, timeout=20_000)
    page.activateWindow()
    page.setFocus()


def open_in_window(qtbot, win, draft_id: str):
    page = win.show_page("editor", draft_id)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace, timeout=20_000)
    qtbot.waitUntil(lambda: page.viewport.image is not None, timeout=20_000)
    win.activateWindow()
    return page


def wheel(widget: QWidget, dy: int = -120, modifiers=Qt.KeyboardModifier.NoModifier) -> None:  # noqa: ANN001
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, dy),
                     Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def song(tmp_path, seconds: int):  # noqa: ANN001, ANN201
    from studio.media import ffmpeg

    out = tmp_path / f"song{seconds}.m4a"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}", "-c:a", "aac",
                str(out)], timeout=120)
    return out


# -- split, delete, duplicate -------------------------------------------------------------------------

def test_split_with_ctrl_b_and_s_while_the_focus_is_elsewhere(qtbot, window, draft):
    page = open_in_window(qtbot, window, draft.id)
    page.seek(4 * US)
    page.add_music_button.setFocus()                   # a button of the page has the focus
    qtbot.keyClick(page.add_music_button, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    clips = page.session.edit.clips
    assert len(clips) == 2 and clips[0].source_out_us == clips[1].source_in_us == 4 * US
    page.seek(9 * US)
    window.sidebar.setFocus()                          # the sidebar, outside the page
    qtbot.keyClick(window.sidebar, Qt.Key.Key_S)
    assert len(page.session.edit.clips) == 3
    assert page.session.edit.clips[1].source_out_us == 9 * US
    page.timeline.setFocus()
    page.seek(11 * US)
    page.split_button.click()                          # and the toolbar's button
    assert len(page.session.edit.clips) == 4
    assert window.current_page_key() == "editor"       # S did not move the sidebar to another page
    # at a clip's edge there is nothing to split: a sentence, no change
    page.seek(4 * US)
    qtbot.keyClick(page.timeline, Qt.Key.Key_S)
    assert len(page.session.edit.clips) == 4 and "playhead inside a clip" in page.save_label.text()
    assert not page.split_button.isEnabled()           # and the button says so before it is pressed


def test_toolbar_delete_and_duplicate(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    assert not page.delete_button.isEnabled() and not page.duplicate_button.isEnabled()   # nothing selected
    clip = page.session.edit.clips[0]
    page._select("clip", clip.id)
    assert page.delete_button.isEnabled() and page.duplicate_button.isEnabled()
    page.duplicate_button.click()
    assert len(page.session.edit.clips) == 2
    assert page.selection == ("clip", page.session.edit.clips[1].id)
    page.delete_button.click()
    assert [c.id for c in page.session.edit.clips] == [clip.id]
    text_id = page.add_text("Hello")
    page.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    texts = page.session.edit.texts
    assert len(texts) == 2 and texts[1].text == "Hello" and texts[1].id != text_id
    assert (texts[1].start_us, texts[1].end_us) == (texts[0].start_us, texts[0].end_us)
    assert texts[1].y > texts[0].y                      # nudged, so both can be seen and grabbed
    page.undo()
    assert len(page.session.edit.texts) == 1


# -- undo / redo ------------------------------------------------------------------------------------

def test_each_key_sequence_is_registered_once(page):
    from studio.ui.pages.editor import key_sequences

    # GNOME/KDE's Redo already holds Ctrl+Shift+Z: registering both made Qt call it ambiguous
    seqs = [s.toString() for s in key_sequences(QKeySequence.StandardKey.Redo, "Ctrl+Shift+Z", "Ctrl+Shift+Z",
                                                "Ctrl+Y")]
    assert len(seqs) == len(set(seqs)) and "Ctrl+Shift+Z" in seqs and "Ctrl+Y" in seqs
    registered = [sc.key().toString() for sc in page.shortcuts]
    assert len(registered) == len(set(registered)), registered
    for binding in QKeySequence.keyBindings(QKeySequence.StandardKey.Redo):
        assert binding.toString() in registered


def test_redo_with_ctrl_shift_z_and_ctrl_y(qtbot, page, draft):
    from studio.editor.commands import TrimClip

    open_draft(qtbot, page, draft.id)
    ambiguous = []
    for sc in page.shortcuts:
        sc.activatedAmbiguously.connect(lambda s=sc: ambiguous.append(s.key().toString()))
    clip_id = page.session.edit.clips[0].id
    page.session.do(TrimClip, clip_id, in_us=0, out_us=2 * US)
    for redo in ((Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier),
                 (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)):
        qtbot.keyClick(page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert page.session.edit.clips[0].source_out_us == 14 * US
        qtbot.keyClick(page, *redo)
        assert page.session.edit.clips[0].source_out_us == 2 * US
    assert ambiguous == []


# -- the wheel ------------------------------------------------------------------------------------------

def test_the_wheel_scrolls_the_inspector_and_leaves_unfocused_sliders_alone(qtbot, page, draft):
    page.resize(1100, 700)
    open_draft(qtbot, page, draft.id)
    clip = page.session.edit.clips[0]
    page._select("clip", clip.id)
    insp = page.inspector
    f = insp.fields["clip"]
    saturation, speed, look = f["saturation"], f["speed"], f["look"]
    insp.reveal(saturation)
    bar = insp.scroll.verticalScrollBar()
    assert bar.maximum() > 0                            # the clip's form is taller than the inspector here
    bar.setValue(bar.maximum() // 2)
    page.setFocus()
    steps, top = page.session.stack.count(), bar.value()
    for w in (saturation, speed, look):
        wheel(w, -120)
    assert saturation.value() == 0 and speed.value() == 1.0 and look.currentIndex() == 0
    assert page.session.stack.count() == steps and page.session.edit.clips[0].look.saturation == 0
    assert bar.value() > top                            # the wheel scrolled the inspector instead
    # a slider the creator clicked into does take the wheel
    saturation.setFocus()
    qtbot.waitUntil(saturation.hasFocus, timeout=2_000)
    wheel(saturation, 120)
    assert saturation.value() != 0
    assert page.session.edit.clips[0].look.saturation != 0
    # and its arrows: ← → move the focused slider, not the playhead
    value, at = saturation.value(), page.timeline.position_us
    qtbot.keyClick(saturation, Qt.Key.Key_Right)
    assert saturation.value() == value + saturation.singleStep() and page.timeline.position_us == at


def test_limits_come_from_the_document(page):
    from studio.editor.document import SPEED_RANGE

    speed = page.inspector.fields["clip"]["speed"]
    assert (speed.minimum(), speed.maximum()) == SPEED_RANGE


# -- typing into a new text ------------------------------------------------------------------------------

def test_typing_after_add_text_lands_in_the_text(qtbot, window, draft):
    page = open_in_window(qtbot, window, draft.id)
    page.add_text_button.click()
    field = page.inspector.fields["text"]["text"]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=5_000)
    assert field.selectedText() == "Your text"
    steps = page.session.stack.count()
    qtbot.keyClicks(field, "Sun is up, L K J")       # Space, S, L, K, J are all editor shortcuts
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClick(field, Qt.Key.Key_Left)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    text = page.session.edit.texts[0]
    assert text.text == "Sun is up, L K"
    assert len(page.session.edit.clips) == 1 and page.rate == 0 and not page.worker.playing
    assert page.session.stack.count() == steps + 1    # the typing burst is one undo step
    assert page.selection == ("text", text.id)        # Delete edited the words, not the overlay
    # Esc leaves the field; then the keys are shortcuts again
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert not field.hasFocus()
    page.seek(5 * US)
    qtbot.keyClick(window.sidebar, Qt.Key.Key_S)
    assert len(page.session.edit.clips) == 2


# -- reel settings and deselecting ---------------------------------------------------------------------------

def test_reel_settings_are_one_click_away_and_an_empty_lane_deselects(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    text_id = page.add_text("Hi")
    assert page.inspector.kind == "text" and page.inspector.title.text() == "Text"
    page.reel_button.click()
    assert page.inspector.kind == "reel" and page.inspector.title.text() == "Reel settings"
    assert page.selection == ("", "")
    page.inspector.fields["reel"]["preset"].setCurrentIndex(page.inspector.fields["reel"]["preset"].findData("4:5"))
    assert page.session.edit.canvas.preset == "4:5"
    # select the text on its lane, then click the sticker lane where there is nothing
    tl = page.timeline
    rect = next(r for kind, it, r in tl.overlay_rects() if it.id == text_id)
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert page.selection == ("text", text_id)
    empty = QPoint(int(tl.x_of(10 * US)), int(tl._sticker_top() + 8))
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=empty)
    assert page.selection == ("", "") and page.inspector.kind == "reel"
    assert abs(tl.position_us - 10 * US) < 100_000     # and the playhead went there
    assert [t.id for t in page.session.edit.texts] == [text_id]


# -- the timeline's length, snapping, zoom ---------------------------------------------------------------

def test_a_long_song_does_not_stretch_the_timeline(qtbot, page, draft, tmp_path):
    from studio.editor.commands import UpdateMusic
    from studio.ui.editor_timeline import MARGIN

    open_draft(qtbot, page, draft.id)
    tl = page.timeline
    video = page.session.edit.duration_us
    end_x = tl.x_of(video)
    assert end_x == pytest.approx(tl.width() - MARGIN, abs=1)
    page.import_asset(song(tmp_path, 60), "audio")     # a 60 s song under a 14 s video
    qtbot.waitUntil(lambda: len(page.session.edit.music) == 1, timeout=30_000)
    assert page.assets[page.session.edit.music[0].asset_id].duration_us > 50 * US
    assert tl._span_us() == video
    assert tl.x_of(video) == pytest.approx(end_x, abs=1)          # the scale did not change
    clip_rect = tl.clip_rects()[-1][1]
    music_rect = tl.music_rects()[0][1]
    assert clip_rect.right() == pytest.approx(end_x, abs=1)
    assert music_rect.left() == pytest.approx(tl.x_of(0), abs=1)
    assert music_rect.right() == pytest.approx(end_x, abs=1)     # the song is cut at the video's end
    # moving the song later keeps it inside the video
    page.session.do(UpdateMusic, page.session.edit.music[0].id, start_us=5 * US)
    assert tl.music_rects()[0][1].right() == pytest.approx(end_x, abs=1)
    assert tl.music_rects()[0][1].left() == pytest.approx(tl.x_of(5 * US), abs=1)


def _drag(qtbot, tl, start: QPoint, end: QPoint) -> None:  # noqa: ANN001
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 5):
        qtbot.mouseMove(tl, start + (end - start) * i / 4)
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=end)


def test_dragging_snaps_to_the_playhead_unless_snapping_is_off(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    text_id = page.add_text("Snap")
    page.setFocus()
    tl = page.timeline
    text = page.session.edit.texts[0]
    assert text.start_us == 0
    page.seek(5 * US)
    rect = next(r for kind, it, r in tl.overlay_rects() if it.id == text_id)
    grab = QPoint(int(rect.left()) + 10, int(rect.center().y()))
    near = grab + QPoint(round(tl.x_of(5 * US) - tl.x_of(0)) + 4, 0)   # 4 px past the playhead
    _drag(qtbot, tl, grab, near)
    moved = page.session.edit.texts[0]
    assert moved.start_us == 5 * US and moved.end_us - moved.start_us == text.end_us - text.start_us
    page.undo()
    page.snap_button.click()                          # snapping off
    assert not tl.snapping
    _drag(qtbot, tl, grab, near)
    loose = page.session.edit.texts[0]
    assert loose.start_us != 5 * US and abs(loose.start_us - 5 * US) < 8 / tl.px_per_us()
    # trimming a clip's end snaps to the playhead too
    page.undo()
    page.snap_button.click()
    page.seek(9 * US)
    clip, crect = tl.clip_rects()[0]
    y = int(crect.center().y())
    handle = QPoint(int(crect.right()) - 2, y)
    _drag(qtbot, tl, handle, QPoint(int(tl.x_of(9 * US)) + 3, y))
    assert page.session.edit.clips[0].source_out_us == 9 * US


def test_zoom_buttons_slider_and_keys(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    tl = page.timeline
    whole = tl.px_per_us()
    page.zoom_in_button.click()
    assert tl.zoom == pytest.approx(1.5) and page.zoom_slider.value() > 0
    qtbot.keyClick(page, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert tl.zoom == pytest.approx(2.25)
    wheel(tl, 120, Qt.KeyboardModifier.ControlModifier)   # Ctrl+wheel zooms too; the slider follows
    assert tl.zoom == pytest.approx(2.25 * 1.25)
    assert page.zoom_slider.value() == round(100 * math.log(tl.zoom) / math.log(40))
    page.zoom_slider.setValue(100)
    assert tl.zoom == pytest.approx(40)
    page.zoom_out_button.click()
    assert tl.zoom == pytest.approx(40 / 1.5)
    page.zoom_fit_button.click()
    assert tl.zoom == 1 and tl.px_per_us() == pytest.approx(whole) and page.zoom_slider.value() == 0


# -- the header follows the document --------------------------------------------------------------------------

def test_edited_follows_the_document_and_the_title_follows_a_rename(qtbot, page, draft):
    from studio.editor.commands import SetCaption

    open_draft(qtbot, page, draft.id)
    assert page.save_label.text() == ""
    page.session.do(SetCaption, "first")
    assert page.save_label.text() == "Edited"
    qtbot.waitUntil(lambda: page.save_label.text() == "Saved", timeout=15_000)
    page.session.do(SetCaption, "second")
    assert page.save_label.text() == "Edited"
    page.undo()                                       # back to what is saved
    assert page.session.edit.caption == "first"
    assert page.save_label.text() == "Saved"
    page.redo()
    assert page.save_label.text() == "Edited"

    with qtbot.waitSignal(page.titleChanged, timeout=15_000) as renamed:
        page.studio.drafts.rename(draft.id, "Cockatoo at dawn")   # as the Drafts page or the CLI would
    assert renamed.args == ["Cockatoo at dawn"]
    assert page.title_label.text() == "Cockatoo at dawn"


# -- layout ------------------------------------------------------------------------------------------------------

def _global_rect(w: QWidget) -> QRect:
    return QRect(w.mapToGlobal(QPoint(0, 0)), w.size())


def _layout_problems(page) -> list[str]:  # noqa: ANN001
    """Visible widgets of the page outside their parent, overlapping the transport bar, or scrolled sideways."""
    problems = []
    scroll_contents = {a.viewport() for a in page.findChildren(QAbstractScrollArea)}
    transport = page.transport_bar
    t_rect = _global_rect(transport)
    for w in page.findChildren(QWidget):
        if not w.isVisible() or w.isWindow():
            continue
        parent = w.parentWidget()
        inside = QRect(QPoint(0, 0), parent.size())
        if parent in scroll_contents:      # a scrolled page may be taller than its viewport, never wider
            if w.geometry().width() > inside.width() + 1:
                problems.append(f"{w.objectName() or type(w).__name__} is wider than its scroll area")
        elif not inside.contains(w.geometry()):
            problems.append(f"{w.objectName() or type(w).__name__} {w.geometry()} outside "
                            f"{parent.objectName() or type(parent).__name__} {inside}")
        related = w is transport or transport.isAncestorOf(w) or w.isAncestorOf(transport)
        shown = _global_rect(w)
        for view in scroll_contents:          # what a scroll area holds is seen only through its viewport
            if view.isAncestorOf(w):
                shown = shown.intersected(_global_rect(view))
        if not related and not shown.isEmpty() and shown.intersects(t_rect):
            problems.append(f"{w.objectName() or type(w).__name__} {_global_rect(w)} overlaps the transport bar")
    for area in page.findChildren(QAbstractScrollArea):
        if area.isVisible() and area.horizontalScrollBar().isVisible():
            problems.append(f"{area.objectName() or type(area).__name__} scrolls sideways")
    return problems


def test_layout_at_1024x700_and_on_a_large_window(qtbot, window, draft, studio):
    studio.drafts.rename(draft.id, "Our cockatoo on the balcony at dawn, a long title " * 3)
    page = open_in_window(qtbot, window, draft.id)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.size().width() == 1024 and window.size().height() == 700, timeout=5_000)
    for kind in ("reel", "clip", "text", "sticker", "music"):
        if kind == "clip":
            page._select("clip", page.session.edit.clips[0].id)
        elif kind == "text":
            page.add_text("A line of text")
        elif kind == "sticker":
            page.add_sticker("builtin:heart")
        elif kind == "music":
            page._select("", "")
            page.save_label.setText("“a-song-with-a-long-file-name.m4a” could not be added: it is not audio.")
            page.audio_label.setText("Playing without sound: no sound output device on this computer.")
        QApplication.processEvents()
        assert page.inspector.kind == kind or kind == "music"
        problems = _layout_problems(page)
        assert not problems, f"{kind}: " + "\n".join(problems)
    vp = page.viewport
    assert vp.height() >= 200 and vp.picture_rect().height() >= 200      # a preview you can still judge
    assert _global_rect(vp).bottom() < _global_rect(page.transport_bar).top()
    assert _global_rect(page.transport_bar).bottom() < _global_rect(page.timeline).top()
    small_preview = vp.picture_rect().height()
    # a large window gives the preview its space
    window.resize(1680, 1050)
    qtbot.waitUntil(lambda: window.size().width() == 1680, timeout=5_000)
    QApplication.processEvents()
    problems = _layout_problems(page)
    assert not problems, "\n".join(problems)
    assert vp.picture_rect().height() > small_preview * 1.4
    assert page.timeline.width() > 1200
