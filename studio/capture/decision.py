"""What happens to the takes after stop: discard them, or save them all into one draft.

Plain functions so the Record page, the CLI and the tests make the same calls.
"""

from __future__ import annotations

from typing import Sequence

from studio.capture import takes as take_files
from studio.capture.recorder import Take


def save_as_draft(studio, recorded: Sequence[Take], *, title: str | None = None):  # noqa: ANN001, ANN201
    """All ``recorded`` takes, in order, into one new draft (the take folders move into the library).

    Raises whatever DraftStore.save_new_draft raises (with a message for the creator); the takes are
    then still in cache/takes.
    """
    if not recorded:
        raise ValueError("There are no takes to save.")
    for take in recorded:
        take.release()
    return studio.drafts.save_new_draft([t.media for t in recorded], title=title, move=True)


def discard(recorded: Sequence[Take]) -> None:
    """Delete the takes' temporary files."""
    for take in recorded:
        take.release()
        take_files.discard(take.dir)
