"""Undoable commands for the visual-editing tools (transitions, beat cuts, reframe results)."""

from __future__ import annotations

from studio.editor.commands import EditCommand
from studio.editor.document import Edit, EditError
from studio.editor.transitions import set_transition


class SetTransition(EditCommand):
    """A transition after clip ``after`` (1-based), or none (``kind=None``)."""

    def __init__(self, session, after: int, kind: str | None, duration_us: int = 500_000):  # noqa: ANN001
        super().__init__(session, "Transition", lambda e: set_transition(e, after, kind, duration_us))


class ApplyEdit(EditCommand):
    """An edit computed in the background from ``base`` (cut to the beat, follow subject). Refused with
    a sentence when the creator changed the edit meanwhile, so no change of theirs is lost."""

    def __init__(self, session, text: str, base: Edit, result: Edit):  # noqa: ANN001
        def apply(current: Edit) -> Edit:
            if current is not base and current != base:
                raise EditError("The edit changed while this was being worked out; try again.")
            return result

        super().__init__(session, text, apply)
