"""Undo/redo over the edit document, drags merging into one step, and autosave through the DraftStore."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.editor import commands as cmd
from studio.editor import document as doc
from studio.editor.commands import EditSession
from studio.editor.document import EditError


def session_with_clip(qapp) -> tuple[EditSession, str]:  # noqa: ANN001
    edit, clip_id = doc.add_clip(doc.new_edit(), "asset", 5_000_000)
    return EditSession(None, "draft", edit, 1), clip_id


def test_trim_add_text_drag_undo_redo(qapp) -> None:  # noqa: ANN001
    s, clip_id = session_with_clip(qapp)
    changes = []
    s.changed.connect(lambda: changes.append(1))
    s.push(cmd.TrimClip(s, clip_id, in_us=1_000_000))
    added = s.push(cmd.AddText(s, "Hello", 0, 2_000_000))
    text_id = added.new_id
    for i in range(1, 6):   # one drag across the preview: five mouse moves
        s.push(cmd.UpdateOverlay(s, text_id, x=0.5 + i * 0.05, y=0.5, drag=True))
    s.end_drag()
    assert s.stack.count() == 3
    assert doc.overlay(s.edit, text_id).x == pytest.approx(0.75)
    s.stack.undo()                               # the whole drag, in one step
    assert doc.overlay(s.edit, text_id).x == 0.5
    s.stack.undo()                               # the text
    assert s.edit.texts == []
    s.stack.undo()                               # the trim
    assert s.edit.clips[0].source_in_us == 0
    s.stack.redo()
    s.stack.redo()
    s.stack.redo()
    assert s.edit.clips[0].source_in_us == 1_000_000 and doc.overlay(s.edit, text_id).x == pytest.approx(0.75)
    assert len(changes) == 7 + 3 + 3    # 7 pushes (merged drag moves too), 3 undos, 3 redos


def test_a_new_drag_is_a_new_undo_step(qapp) -> None:  # noqa: ANN001
    s, clip_id = session_with_clip(qapp)
    s.push(cmd.TrimClip(s, clip_id, out_us=4_000_000, drag=True))
    s.push(cmd.TrimClip(s, clip_id, out_us=3_000_000, drag=True))
    s.end_drag()
    s.push(cmd.TrimClip(s, clip_id, out_us=2_000_000, drag=True))
    s.end_drag()
    assert s.stack.count() == 2
    s.stack.undo()
    assert s.edit.clips[0].source_out_us == 3_000_000
    # A different target never merges, even within one drag.
    other = s.push(cmd.DuplicateClip(s, clip_id)).new_id
    s.push(cmd.UpdateClip(s, clip_id, volume=0.5, drag=True))
    s.push(cmd.UpdateClip(s, other, volume=0.2, drag=True))
    assert s.stack.count() == 4


def test_invalid_operation_is_refused_and_nothing_is_pushed(qapp) -> None:  # noqa: ANN001
    s, clip_id = session_with_clip(qapp)
    with pytest.raises(EditError):
        s.push(cmd.UpdateClip(s, clip_id, speed=10.0))
    with pytest.raises(EditError):
        s.push(cmd.SplitClip(s, clip_id, 0))
    assert s.stack.count() == 0 and not s.dirty


def test_split_reorder_delete_music_and_cover_commands(qapp) -> None:  # noqa: ANN001
    s, clip_id = session_with_clip(qapp)
    right = s.push(cmd.SplitClip(s, clip_id, 2_000_000)).new_id
    s.push(cmd.MoveClip(s, right, 0))
    assert [c.id for c in s.edit.clips] == [right, clip_id]
    s.push(cmd.DeleteClip(s, clip_id))
    music = s.push(cmd.AddMusic(s, "song", 0)).new_id
    s.push(cmd.UpdateMusic(s, music, start_us=500_000, drag=True))
    s.push(cmd.UpdateMusic(s, music, start_us=700_000, drag=True))
    s.push(cmd.SetCover(s, time_us=1_000_000))
    s.push(cmd.SetCaption(s, "hi", drag=True))
    s.push(cmd.SetCaption(s, "hi there", drag=True))
    assert (s.edit.music[0].start_us, s.edit.cover.time_us, s.edit.caption) == (700_000, 1_000_000, "hi there")
    while s.stack.canUndo():
        s.stack.undo()
    assert [c.id for c in s.edit.clips] == [clip_id] and s.edit.music == [] and s.edit.caption == ""


def test_autosave_writes_a_new_revision_after_the_last_edit(qtbot, studio, shared_media: Path) -> None:  # noqa: ANN001
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    s = EditSession.open(studio, draft.id, autosave_ms=150)
    assert s.edit.schema_version == doc.CURRENT_VERSION
    clip_id = s.edit.clips[0].id
    with qtbot.waitSignal(s.saved, timeout=10_000) as saved:
        s.push(cmd.TrimClip(s, clip_id, in_us=200_000))
        s.push(cmd.AddText(s, "Autosaved ✓"))
    assert saved.args[0] == draft.revision + 1
    stored = studio.drafts.get(draft.id)
    assert stored.revision == s.revision == draft.revision + 1
    assert stored.edit["clips"][0]["source_in_us"] == 200_000 and stored.edit["texts"][0]["text"] == "Autosaved ✓"
    assert not s.dirty
    s.push(cmd.SetCaption(s, "flush on close"))
    assert s.flush() == draft.revision + 2
    assert studio.drafts.get(draft.id).edit["caption"] == "flush on close"
