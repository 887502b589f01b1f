"""What happens to the takes after stop: discard them, or save them all into one draft.

Plain functions so the Record page, the CLI and the tests make the same calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from studio.capture import takes as take_files
from studio.capture.recorder import Take
from studio.errors import StudioError


def save_as_draft(studio, recorded: Sequence[Take], *, title: str | None = None):  # noqa: ANN001, ANN201
    """All ``recorded`` takes, in order, into one new draft (the take folders move into the library).

    Raises whatever DraftStore.save_takes raises (with a message for the creator); the takes are
    then still in cache/takes.
    """
    if not recorded:
        raise ValueError("There are no takes to save.")
    for take in recorded:
        take.release()
    return studio.drafts.save_takes(recorded, title=title)


def save_left_behind(drafts, take_dirs: Sequence[Path]) -> int:  # noqa: ANN001 - DraftStore
    """Takes an earlier session left in cache/takes, each into a draft of its own; how many were saved.
    A take that cannot be read stays where it is (offered again); the others are still saved."""
    saved, failed = 0, []
    for d in take_dirs:
        try:
            take = Take.from_folder(Path(d))
            if take is not None:
                drafts.save_takes([take])
                saved += 1
        except StudioError as e:
            failed.append(e)
    if failed and not saved:
        raise failed[0]
    return saved


def discard(recorded: Sequence[Take]) -> None:
    """Delete the takes' temporary files."""
    for take in recorded:
        take.release()
        take_files.discard(take.dir)
