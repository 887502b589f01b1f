"""The editor page's visual tools as a creator uses them: a transition from the toolbar, the
safe-zone guide with its warning, beat markers that trimming snaps to."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from editor_page import shown_editor_page

from studio.editor.document import US, update_music

pytestmark = pytest.mark.usefixtures("qapp")


def _open(qtbot, page, draft_id: str) -> None:  # noqa: ANN001
    page.activated(draft_id)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.workspace, timeout=20_000)
    qtbot.waitUntil(lambda: page.viewport.image is not None, timeout=20_000)


@pytest.fixture
def page(qtbot, studio):
    yield from shown_editor_page(qtbot, studio)


def test_toolbar_transition_safe_zones_and_beat_snapping(qtbot, page, studio, shared_media):
    draft = studio.drafts.import_files([shared_media / "cockatoo_yuv420.mp4"] * 1, title="Two")
    _open(qtbot, page, draft.id)
    page.seek(5 * US)
    page.split_at_playhead()
    before = page.session.edit.duration_us
    crossfade = next(a for a in page.transition_menu.actions() if a.data() == "crossfade")
    crossfade.trigger()
    edit = page.session.edit
    assert edit.clips[0].transition.kind == "crossfade" and edit.duration_us == before - 500_000
    page.undo()
    assert page.session.edit.duration_us == before

    # follow subject on the first clip: analysed in the background, one undo step
    page._select("clip", page.session.edit.clips[0].id)
    page.follow_subject()
    qtbot.waitUntil(lambda: page.session.edit.clips[0].reframe.mode == "follow", timeout=90_000)
    assert page.session.edit.clips[0].reframe.keys and page.follow_button.isEnabled()
    page.undo()
    assert page.session.edit.clips[0].reframe.mode == "fill"

    # safe zones: a text at the very bottom is flagged for TikTok, not once moved to the middle
    page.add_text("Follow for more")
    text = page.session.edit.texts[0]
    page._do(__import__("studio.editor.commands", fromlist=["UpdateOverlay"]).UpdateOverlay, text.id, y=0.93)
    qtbot.waitUntil(lambda: text.id in page.viewport.boxes
                    and page.viewport.boxes[text.id][1].center().y() > 0.85 * page.viewport.canvas_size[1],
                    timeout=20_000)
    page.set_safe_zone("tiktok")
    assert page.viewport.safe_zones and [w.item_id for w in page.safe_zone_warnings] == [text.id]
    assert "TikTok" in page.safe_zone_button.toolTip()
    page.set_safe_zone("")
    assert not page.viewport.safe_zones and page.safe_zone_warnings == []

    # beat markers on the music lane are snap points while trimming
    e = page.session.edit
    tl = page.timeline
    from studio.editor.document import add_music

    e, music_id = add_music(e, "m")
    e = update_music(e, music_id, beats_us=[1_234_567, 2_469_134], onsets_us=[1_851_850])
    tl.set_edit(e, {"m": 10 * US})
    points = tl.snap_points()
    assert {1_234_567, 2_469_134, 1_851_850} <= set(points)
    tl.grab()   # paints the markers without error
