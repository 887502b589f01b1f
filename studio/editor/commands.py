"""Undoable edit operations and the EditSession that owns a draft's edit.

Every command wraps one pure operation of ``studio.editor.document`` and keeps the document
before and after it, so undo and redo are exact whatever the operation did. Drags (moving an
overlay, dragging a trim handle, sliding music) pass ``drag=True``: all commands of one drag merge
into a single undo step. A drag ends at ``session.end_drag()`` (mouse release).

    session = EditSession.open(studio, draft_id)
    session.push(TrimClip(session, clip_id, in_us=250_000, drag=True))
    session.end_drag()
    session.stack.undo()

The stack is ``studio.editor.undo.UndoStack`` (QUndoStack's rules, Python-owned commands: see
there why not QUndoStack itself); nothing here needs widgets.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from studio.editor import document as doc
from studio.editor.captions import set_caption_style, set_transcript
from studio.editor.document import Edit, EditError
from studio.editor.jumpcuts import remove_ranges
from studio.editor.undo import UndoStack
from studio.errors import user_message
from studio.tasks import run_in_background

log = logging.getLogger(__name__)

AUTOSAVE_MS = 2000


class EditCommand:
    """One operation: ``operation(edit) -> Edit`` (or ``(Edit, new_id)``) applied to the session.

    Raises EditError at construction if the operation is invalid, so nothing is pushed.
    """

    merge_id = -1           # subclasses that support dragging set a unique int

    def __init__(self, session: "EditSession", text: str, operation: Callable[[Edit], Any], *,
                 target: str | None = None, drag: bool = False):
        self._text = text
        self.session = session
        self.before = session.edit
        result = operation(self.before)
        self.after, self.new_id = result if isinstance(result, tuple) else (result, None)
        self.target = target
        self.drag_token = session.drag_token if drag else None

    def text(self) -> str:
        return self._text

    def redo(self) -> None:
        self.session._set_edit(self.after)

    def undo(self) -> None:
        self.session._set_edit(self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self.merge_id if self.drag_token is not None else -1

    def mergeWith(self, other: "EditCommand") -> bool:  # noqa: N802 - Qt's name
        if (type(other) is not type(self) or other.target != self.target or other.drag_token is None
                or other.drag_token != self.drag_token):
            return False
        self.after = other.after
        return True


class TrimClip(EditCommand):
    merge_id = 1

    def __init__(self, session: "EditSession", clip_id: str, *, in_us: int | None = None,
                 out_us: int | None = None, drag: bool = False):
        super().__init__(session, "Trim clip", lambda e: doc.trim_clip(e, clip_id, in_us=in_us, out_us=out_us),
                         target=clip_id, drag=drag)


class SplitClip(EditCommand):
    def __init__(self, session: "EditSession", clip_id: str, at_us: int):
        super().__init__(session, "Split clip", lambda e: doc.split_clip(e, clip_id, at_us), target=clip_id)


class MoveClip(EditCommand):
    def __init__(self, session: "EditSession", clip_id: str, index: int):
        super().__init__(session, "Reorder clips", lambda e: doc.move_clip(e, clip_id, index), target=clip_id)


class DeleteClip(EditCommand):
    def __init__(self, session: "EditSession", clip_id: str):
        super().__init__(session, "Delete clip", lambda e: doc.delete_clip(e, clip_id), target=clip_id)


class DuplicateClip(EditCommand):
    def __init__(self, session: "EditSession", clip_id: str):
        super().__init__(session, "Duplicate clip", lambda e: doc.duplicate_clip(e, clip_id), target=clip_id)


class UpdateClip(EditCommand):
    """Speed, volume, mute, rotation, reframe={...}, look={...}. Slider drags merge."""
    merge_id = 2

    def __init__(self, session: "EditSession", clip_id: str, *, drag: bool = False, **changes: Any):
        super().__init__(session, "Change clip", lambda e: doc.update_clip(e, clip_id, **changes),
                         target=clip_id, drag=drag)


class AddText(EditCommand):
    def __init__(self, session: "EditSession", text: str, start_us: int = 0, end_us: int | None = None, **style: Any):
        super().__init__(session, "Add text", lambda e: doc.add_text(e, text, start_us, end_us, **style))


class AddSticker(EditCommand):
    def __init__(self, session: "EditSession", source: str, start_us: int = 0, end_us: int | None = None,
                 **style: Any):
        super().__init__(session, "Add sticker", lambda e: doc.add_sticker(e, source, start_us, end_us, **style))


class UpdateOverlay(EditCommand):
    """Move, resize, rotate, restyle or retime a text or sticker. Drags merge into one step."""
    merge_id = 3

    def __init__(self, session: "EditSession", overlay_id: str, *, drag: bool = False, **changes: Any):
        super().__init__(session, "Edit overlay", lambda e: doc.update_overlay(e, overlay_id, **changes),
                         target=overlay_id, drag=drag)


class RemoveOverlay(EditCommand):
    def __init__(self, session: "EditSession", overlay_id: str):
        super().__init__(session, "Remove overlay", lambda e: doc.remove_overlay(e, overlay_id), target=overlay_id)


class AddMusic(EditCommand):
    def __init__(self, session: "EditSession", asset_id: str, start_us: int = 0, **options: Any):
        super().__init__(session, "Add music", lambda e: doc.add_music(e, asset_id, start_us, **options))


class UpdateMusic(EditCommand):
    """Move (start_us), trim (offset_us, duration_us), volume and fades. Drags merge."""
    merge_id = 4

    def __init__(self, session: "EditSession", music_id: str, *, drag: bool = False, **changes: Any):
        super().__init__(session, "Edit music", lambda e: doc.update_music(e, music_id, **changes),
                         target=music_id, drag=drag)


class RemoveMusic(EditCommand):
    def __init__(self, session: "EditSession", music_id: str):
        super().__init__(session, "Remove music", lambda e: doc.remove_music(e, music_id), target=music_id)


class UpdateAudio(EditCommand):
    merge_id = 5

    def __init__(self, session: "EditSession", *, drag: bool = False, **changes: Any):
        super().__init__(session, "Change sound", lambda e: doc.update_audio(e, **changes), target="audio", drag=drag)


class SetCanvas(EditCommand):
    def __init__(self, session: "EditSession", preset: str, fps: int | None = None):
        super().__init__(session, "Change shape", lambda e: doc.set_canvas(e, preset, fps))


class SetCaption(EditCommand):
    merge_id = 6

    def __init__(self, session: "EditSession", caption: str, *, drag: bool = False):
        # Typing is a "drag" too: consecutive keystrokes merge into one step.
        super().__init__(session, "Edit caption", lambda e: doc.set_caption(e, caption), target="caption", drag=drag)


class SetCover(EditCommand):
    merge_id = 7

    def __init__(self, session: "EditSession", *, time_us: int | None = None, asset_id: str | None = None,
                 drag: bool = False):
        super().__init__(session, "Choose cover", lambda e: doc.set_cover(e, time_us=time_us, asset_id=asset_id),
                         target="cover", drag=drag)


# --- captions and jump cuts (studio.editor.captions / jumpcuts) -----------------------------------

class SetTranscript(EditCommand):
    """Auto captions: the transcribed words replace the captions' words (the style stays)."""

    def __init__(self, session: "EditSession", words: list, *, engine: str = "", language: str = "en"):
        super().__init__(session, "Auto captions",
                         lambda e: set_transcript(e, words, engine=engine, language=language), target="captions")


class EditCaptions(EditCommand):
    """Fix a word, split or merge lines: ``operation`` is one of studio.editor.captions' edits."""

    def __init__(self, session: "EditSession", text: str, operation: Callable[[Edit], Edit]):
        super().__init__(session, text, operation, target="captions")


class SetCaptionStyle(EditCommand):
    merge_id = 31

    def __init__(self, session: "EditSession", *, drag: bool = False, **changes: Any):
        super().__init__(session, "Caption style", lambda e: set_caption_style(e, **changes),
                         target="caption-style", drag=drag)


class RemoveSilences(EditCommand):
    """Jump cuts: every range cut out at once — one undo step for the whole removal."""

    def __init__(self, session: "EditSession", ranges: list[tuple[int, int]]):
        super().__init__(session, "Remove silences", lambda e: remove_ranges(e, ranges), target="silences")


class EditSession(QObject):
    """A draft's edit being worked on: the document, its undo stack and autosave.

    Signals: ``changed()`` after every do/undo/redo; ``saved(revision)``; ``save_failed(message)``.
    Autosave writes through ``store.update_edit`` ``AUTOSAVE_MS`` after the last change, on a
    background thread (never on the UI thread), one save at a time.
    """

    changed = Signal()
    saved = Signal(int)
    save_failed = Signal(str)

    def __init__(self, store, draft_id: str, edit: Edit | dict, revision: int, *,  # noqa: ANN001 - DraftStore
                 autosave_ms: int = AUTOSAVE_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.draft_id = draft_id
        self.revision = revision
        self._edit = edit if isinstance(edit, Edit) else Edit.from_dict(edit)
        self.stack = UndoStack(self)
        self.drag_token: int = 0
        self._dirty = False
        self._saving = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(autosave_ms)
        self._timer.timeout.connect(self.save_soon_now)

    @classmethod
    def open(cls, studio, draft_id: str, **kwargs: Any) -> "EditSession":  # noqa: ANN001 - Studio
        """Load a draft's edit (migrating older formats). Raises DraftNotFound / EditError."""
        draft = studio.drafts.get(draft_id)
        return cls(studio.drafts, draft.id, Edit.from_dict(draft.edit), draft.revision, **kwargs)

    @property
    def edit(self) -> Edit:
        return self._edit

    @property
    def saving(self) -> bool:
        """An autosave is writing right now."""
        return self._saving

    @property
    def dirty(self) -> bool:
        return self._dirty

    def push(self, command: EditCommand) -> EditCommand:
        """Apply a command (undoable). Returns it; ``command.new_id`` is the id of anything it created."""
        self.stack.push(command)
        return command

    def do(self, command_cls: type[EditCommand], *args: Any, **kwargs: Any) -> EditCommand | None:
        """Build and push a command. Raises EditError (nothing pushed) if the operation is invalid."""
        return self.push(command_cls(self, *args, **kwargs))

    def end_drag(self) -> None:
        """The drag (or typing burst) is over; the next drag starts a new undo step."""
        self.drag_token += 1

    def replace(self, edit: Edit, revision: int) -> None:
        """Load a document saved elsewhere (e.g. import-edit); clears undo history."""
        self.stack.clear()
        self.revision = revision
        self._edit = edit
        self._dirty = False
        self.changed.emit()

    def _set_edit(self, edit: Edit) -> None:
        self._edit = edit
        self._dirty = True
        self.changed.emit()
        if self.store is not None:
            self._timer.start()

    # -- saving --------------------------------------------------------------------------------
    def save_soon_now(self) -> None:
        """Start a background save of the current document (autosave's timer calls this)."""
        if self.store is None or not self._dirty:
            return
        if self._saving:
            self._timer.start()   # one save at a time; try again after this one
            return
        self._saving = True
        snapshot = self._edit
        self._dirty = False
        run_in_background(self._write, snapshot.to_dict(), self.revision,
                          on_done=self._saved, on_error=lambda e: self._save_error(e, snapshot))

    def _write(self, data: dict, base_revision: int) -> int:
        return self.store.update_edit(self.draft_id, data, base_revision=base_revision)

    def _saved(self, revision: int) -> None:
        self._saving = False
        self.revision = revision
        self.saved.emit(revision)

    def _save_error(self, exc: BaseException, snapshot: Edit) -> None:
        self._saving = False
        if snapshot is self._edit:
            self._dirty = True
        log.warning("autosave of draft %s failed: %s", self.draft_id, exc)
        self.save_failed.emit(user_message(exc))

    def flush(self) -> int | None:
        """Save now, on this thread (closing the editor). Returns the new revision, if one was saved."""
        self._timer.stop()
        if self.store is None or not self._dirty:
            return None
        self.revision = self.store.update_edit(self.draft_id, self._edit.to_dict(), base_revision=self.revision)
        self._dirty = False
        self.saved.emit(self.revision)
        return self.revision


__all__ = ["EditSession", "EditCommand", "EditError", "TrimClip", "SplitClip", "MoveClip", "DeleteClip",
           "DuplicateClip", "UpdateClip", "AddText", "AddSticker", "UpdateOverlay", "RemoveOverlay", "AddMusic",
           "UpdateMusic", "RemoveMusic", "UpdateAudio", "SetCanvas", "SetCaption", "SetCover", "SetTranscript",
           "EditCaptions", "SetCaptionStyle", "RemoveSilences"]
