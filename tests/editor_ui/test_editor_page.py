"""The Editor page as a creator uses it: open a draft, trim with the handles, add text and drag it,
undo/redo, play, export with progress and cancel."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from studio.editor.document import Edit

US = 1_000_000


def open_draft(qtbot, page, draft_id: str) -> None:
    page.activated(draft_id)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace, timeout=20_000)
    qtbot.waitUntil(lambda: page.viewport.image is not None, timeout=20_000)
    page.activateWindow()
    page.setFocus()


def test_without_a_draft_the_page_points_to_drafts_and_record(qtbot, page):
    page.activated(None)
    assert page.pages.currentWidget() is page.empty
    assert "Drafts" in page.empty_note.text()
    with qtbot.waitSignal(page.navigate) as nav:
        next(b for b in page.empty.findChildren(type(page.export_button)) if b.text() == "Open Drafts").click()
    assert nav.args == ["drafts", None]


def test_unknown_draft_says_so(qtbot, page):
    page.activated("0" * 32)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.empty, timeout=10_000)
    assert "could not be opened" in page.empty_note.text()


def test_trim_with_handles_then_undo_and_redo(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    tl = page.timeline
    clip, rect = tl.clip_rects()[0]
    assert clip.source_out_us == 14 * US
    y = int(rect.center().y())
    start = QPoint(int(rect.right()) - 2, y)
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=start)
    for dx in (20, 60, 120, 200):   # one drag, many moves
        qtbot.mouseMove(tl, QPoint(start.x() - dx, y))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=QPoint(start.x() - 200, y))
    trimmed = page.session.edit.clips[0]
    assert trimmed.source_in_us == 0
    assert 5 * US < trimmed.source_out_us < 13 * US
    assert page.session.stack.count() == 1          # the whole drag is one undo step
    assert page.selection == ("clip", clip.id)
    # the left handle moves the in point
    rect = tl.clip_rects()[0][1]
    left = QPoint(int(rect.left()) + 2, y)
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=left)
    qtbot.mouseMove(tl, QPoint(left.x() + 80, y))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=QPoint(left.x() + 80, y))
    assert page.session.edit.clips[0].source_in_us > US // 4
    assert page.session.stack.count() == 2

    qtbot.keyClick(page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.session.edit.clips[0].source_in_us == 0
    qtbot.keyClick(page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.session.edit.clips[0].source_out_us == 14 * US
    qtbot.keyClick(page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert page.session.edit.clips[0].source_out_us == trimmed.source_out_us
    # the trimmed edit is saved by autosave
    qtbot.waitUntil(lambda: not page.session.dirty and page.session.revision > draft.revision, timeout=10_000)
    saved = Edit.from_dict(page.studio.drafts.get(draft.id).edit)
    assert saved.clips[0].source_out_us == trimmed.source_out_us


def _box_centre(page, overlay_id) -> QPoint:
    vp = page.viewport
    return vp._to_widget(vp.boxes[overlay_id][1]).center().toPoint()


def test_add_text_and_drag_it_on_the_preview(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    page.add_text_button.click()
    text = page.session.edit.texts[0]
    assert (text.x, text.y) == (0.5, 0.5)
    assert page.selection == ("text", text.id)
    qtbot.waitUntil(lambda: text.id in page.viewport.boxes, timeout=10_000)
    assert page.inspector.fields["text"]["text"].text() == "Your text"
    steps_before = page.session.stack.count()

    vp = page.viewport
    start = _box_centre(page, text.id)
    pic = vp.picture_rect()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(vp, QPoint(start.x() + i * 10, start.y() - i * 20))
    end = QPoint(start.x() + 50, start.y() - 100)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    moved = page.session.edit.texts[0]
    assert moved.x == pytest.approx(0.5 + 50 / pic.width(), abs=0.01)
    assert moved.y == pytest.approx(0.5 - 100 / pic.height(), abs=0.01)
    assert page.session.stack.count() == steps_before + 1   # one drag = one undo step

    # double-click the text on the preview and type a new one: one undo step for the typing burst
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=_box_centre(page, text.id))
    field = page.inspector.fields["text"]["text"]
    assert field.hasFocus() and field.selectedText() == "Your text"
    qtbot.keyClicks(field, "Hi!")
    field.editingFinished.emit()
    assert page.session.edit.texts[0].text == "Hi!"
    page.undo_button.click()
    assert page.session.edit.texts[0].text == "Your text"

    page.undo_button.click()
    assert (page.session.edit.texts[0].x, page.session.edit.texts[0].y) == (0.5, 0.5)
    page.redo_button.click()
    assert page.session.edit.texts[0].y == moved.y
    page.undo_button.click()
    page.undo_button.click()
    assert page.session.edit.texts == []   # undoing the add removes the text


def test_resize_a_sticker_by_its_handle(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    sticker_id = page.add_sticker("builtin:heart")
    qtbot.waitUntil(lambda: sticker_id in page.viewport.boxes, timeout=10_000)
    vp = page.viewport
    r = vp._to_widget(vp.boxes[sticker_id][1])
    handle = r.bottomRight().toPoint()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=handle)
    qtbot.mouseMove(vp, handle + QPoint(20, 20))
    qtbot.mouseMove(vp, handle + QPoint(40, 40))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=handle + QPoint(40, 40))
    assert page.session.edit.stickers[0].scale > 0.3 * 1.2


def test_playback_runs_off_the_ui_thread_and_says_it_is_silent(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    worker = page.worker
    assert not worker.has_audio_device          # this machine has no sound output
    qtbot.waitUntil(lambda: "silent" in page.audio_label.text(), timeout=5_000)
    with qtbot.waitSignal(worker.playingChanged, timeout=10_000):
        qtbot.keyClick(page, Qt.Key.Key_Space)
    shown = worker.frames_shown
    qtbot.waitUntil(lambda: worker.frames_shown >= shown + 10, timeout=10_000)
    assert page.timeline.position_us > 0
    with qtbot.waitSignal(worker.playingChanged, timeout=10_000):
        qtbot.keyClick(page, Qt.Key.Key_K)
    assert page.play_button.text() == "Play"
    paused_at = page.timeline.position_us
    qtbot.keyClick(page, Qt.Key.Key_Right)
    assert page.timeline.position_us == paused_at + round(US / 30) or page.timeline.position_us > paused_at
    # the resting frame is the exact one from the render graph
    qtbot.waitUntil(lambda: page.viewport.exact, timeout=10_000)
    # L plays, L again doubles the speed; K stops
    qtbot.keyClick(page, Qt.Key.Key_L)
    qtbot.keyClick(page, Qt.Key.Key_L)
    assert page.rate == 2.0
    qtbot.waitUntil(lambda: worker.playing, timeout=5_000)
    qtbot.keyClick(page, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: not worker.playing, timeout=5_000)


def test_export_reports_progress_and_can_be_cancelled(qtbot, page, draft, tmp_path):
    open_draft(qtbot, page, draft.id)
    out = tmp_path / "cancelled.mp4"
    page.export(out)
    qtbot.waitUntil(lambda: page.export_job is not None and page.export_progress.value() > 0, timeout=30_000)
    assert page.cancel_button.isVisible()
    assert "Exporting" in page.export_label.text()
    with qtbot.waitSignal(page.export_job.cancelled, timeout=20_000):
        page.cancel_button.click()
    qtbot.waitUntil(lambda: page.export_label.text() == "Export cancelled.", timeout=5_000)
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial*"))
    assert page.export_button.isEnabled()


def test_export_after_an_edit_renders_the_edit(qtbot, page, draft, tmp_path):
    from studio.editor.commands import TrimClip

    open_draft(qtbot, page, draft.id)
    page.session.do(TrimClip, page.session.edit.clips[0].id, in_us=0, out_us=US)   # 1 s reel
    progress = []
    out = tmp_path / "reel.mp4"
    page.export(out)   # saves the pending edit first, then renders
    qtbot.waitUntil(lambda: page.export_job is not None, timeout=10_000)
    page.export_job.progress.connect(lambda f, eta: progress.append(f))
    with qtbot.waitSignal(page.export_job.finished, timeout=60_000):
        pass
    assert out.is_file()
    qtbot.waitUntil(lambda: page.export_done.isVisible() and page.export_done.path == out, timeout=5_000)
    from studio.media.probe import probe

    info = probe(out)
    assert info.video.width == 1080 and info.video.height == 1920
    assert 0.9 * US <= info.duration_us <= 1.15 * US
    assert Path(out).stat().st_size > 0


def test_reel_settings_when_nothing_is_selected(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    insp = page.inspector
    assert insp.kind == "reel"
    f = insp.fields["reel"]
    f["preset"].setCurrentIndex(f["preset"].findData("1:1"))
    assert page.session.edit.canvas.preset == "1:1"
    assert page.viewport.canvas_size == (960, 960)
    qtbot.waitUntil(lambda: page.viewport.image is not None and page.viewport.image.width() == 960, timeout=10_000)
    qtbot.keyClicks(f["caption"], "hello")
    f["caption"].editingFinished.emit()
    assert page.session.edit.caption == "hello"
    page.undo()   # the typing burst is one step
    assert page.session.edit.caption == ""
    page.undo()
    assert page.session.edit.canvas.preset == "9:16"
    assert page.viewport.canvas_size == (540, 960)


def test_clip_actions_split_duplicate_reorder_delete(qtbot, page, draft):
    open_draft(qtbot, page, draft.id)
    first = page.session.edit.clips[0].id
    page._select("clip", first)
    page.seek(4 * US)
    buttons = {b.objectName(): b for b in page.inspector.findChildren(type(page.export_button))}
    buttons["inspector-split"].click()
    clips = page.session.edit.clips
    assert len(clips) == 2 and clips[0].source_out_us == clips[1].source_in_us == 4 * US
    buttons["inspector-later"].click()
    assert [c.id for c in page.session.edit.clips][1] == first
    buttons["inspector-duplicate"].click()
    assert len(page.session.edit.clips) == 3
    qtbot.keyClick(page, Qt.Key.Key_Delete)        # deletes the selected (duplicated) clip
    assert len(page.session.edit.clips) == 2
    for _ in range(4):
        page.undo()
    assert [c.id for c in page.session.edit.clips] == [first]
    assert page.session.edit.clips[0].source_out_us == 14 * US


def test_add_music_and_an_own_sticker_image(qtbot, page, draft, tmp_path):
    from PySide6.QtGui import QColor, QImage

    from studio.media import ffmpeg

    open_draft(qtbot, page, draft.id)
    song = tmp_path / "song.m4a"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=4", "-c:a", "aac", str(song)],
               timeout=60)
    page.import_asset(song, "audio")
    qtbot.waitUntil(lambda: len(page.session.edit.music) == 1, timeout=20_000)
    music = page.session.edit.music[0]
    assert page.selection == ("music", music.id)
    qtbot.waitUntil(lambda: music.asset_id in page.timeline.waveforms, timeout=20_000)
    assert page.timeline.waveforms[music.asset_id].max() > 0

    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 200, 255, 180))
    png = tmp_path / "badge.png"
    assert image.save(str(png))
    page.import_asset(png, "image")
    qtbot.waitUntil(lambda: len(page.session.edit.stickers) == 1, timeout=20_000)
    sticker = page.session.edit.stickers[0]
    assert sticker.source.startswith("asset:")
    qtbot.waitUntil(lambda: sticker.id in page.viewport.boxes, timeout=20_000)
    # both are in the saved draft's library
    qtbot.waitUntil(lambda: not page.session.dirty, timeout=10_000)
    kinds = sorted(a.kind for a in page.studio.drafts.get(draft.id).assets)
    assert kinds == ["audio", "image", "video"]


def test_missing_media_is_explained_on_the_preview(qtbot, page, draft):
    asset = draft.assets[0]
    path = page.studio.drafts.asset_path(asset)
    hidden = path.with_name(path.name + ".away")
    path.rename(hidden)
    try:
        page.activated(draft.id)
        qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace, timeout=20_000)
        qtbot.waitUntil(lambda: "could not be drawn" in page.viewport.message, timeout=20_000)
        assert "does not exist" in page.viewport.message
    finally:
        hidden.rename(path)


def test_in_the_main_window_space_plays_even_with_the_sidebar_focused(qtbot, studio, draft):
    from studio.ui.main_window import MainWindow

    win = MainWindow(studio)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    page = win.show_page("editor", draft.id)
    try:
        qtbot.waitUntil(lambda: page.viewport.image is not None, timeout=20_000)
        win.activateWindow()
        win.sidebar.setFocus()
        with qtbot.waitSignal(page.worker.playingChanged, timeout=10_000):
            qtbot.keyClick(win.sidebar, Qt.Key.Key_Space)
        qtbot.keyClick(win.sidebar, Qt.Key.Key_K)
        qtbot.waitUntil(lambda: not page.worker.playing, timeout=5_000)
        win.stack.setCurrentIndex(0)      # another page shown: the editor's shortcuts are off
        qtbot.keyClick(win.sidebar, Qt.Key.Key_Space)
        assert not page.worker.playing and page.rate == 0
    finally:
        page.shutdown()


def test_scrub_fast_then_switch_drafts_while_playing(qtbot, page, draft, studio, shared_media):
    open_draft(qtbot, page, draft.id)
    tl = page.timeline
    y = 8   # the ruler
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=QPoint(60, y))
    for x in range(60, tl.width() - 20, 7):
        qtbot.mouseMove(tl, QPoint(x, y))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=QPoint(tl.width() - 20, y))
    end_t = tl.t_of(tl.width() - 20)
    qtbot.waitUntil(lambda: page.viewport.exact and abs(page.worker.position_us - end_t) < 40_000, timeout=20_000)
    page.play()
    qtbot.waitUntil(lambda: page.worker.playing, timeout=10_000)
    other = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Short")
    page.activated(other.id)
    qtbot.waitUntil(lambda: page.session is not None and page.session.draft_id == other.id, timeout=20_000)
    qtbot.waitUntil(lambda: page.viewport.image is not None, timeout=20_000)
    assert page.title_label.text() == "Short"
    assert page.session.edit.duration_us == pytest.approx(1_200_000, abs=40_000)


def test_timeline_zooms_for_precise_trims(qtbot, page, draft):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    open_draft(qtbot, page, draft.id)
    tl = page.timeline
    page.seek(7 * US)
    whole = tl.px_per_us()
    pos = QPointF(tl.x_of(7 * US), 40)
    for _ in range(8):   # Ctrl+wheel zooms around the mouse
        ev = QWheelEvent(pos, tl.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                         Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(tl, ev)
    assert tl.px_per_us() == pytest.approx(whole * 1.25 ** 8)
    assert tl.t_of(pos.x()) == pytest.approx(7 * US, abs=20_000)   # the time under the mouse stayed put
    # zoomed in: one pixel is a few milliseconds, and the view scrolls
    clip, rect = tl.clip_rects()[0]
    assert rect.left() < 0 and rect.right() > tl.width()           # the clip runs past both edges
    page.seek(13_900_000)                                          # the view follows the playhead
    x = tl.x_of(13_900_000)
    assert 34 <= x <= tl.width()
