"""Helpers the publish tests import by name (a conftest cannot be: `from conftest import` picks
whichever conftest pytest loaded first)."""

from __future__ import annotations

from pathlib import Path

COVER_US = 1_500_000


def short_draft(studio, shared_media: Path, seconds: float, *, cover_us: int | None = COVER_US,
                caption: str = "") -> str:
    """A draft of the first ``seconds`` of real camera footage (cockatoo.mp4: 4:4:4 H.264, MP3 audio)."""
    from studio.editor import document as doc
    from studio.editor.export import load_edit

    d = studio.drafts.import_files([shared_media / "cockatoo.mp4"], title="Cockatoo <on> a branch")
    e = load_edit(d)
    e = doc.trim_clip(e, e.clips[0].id, in_us=0, out_us=int(seconds * 1_000_000))
    if cover_us is not None:
        e = doc.set_cover(e, time_us=cover_us)
    if caption:
        e = doc.set_caption(e, caption)
    studio.drafts.update_edit(d.id, e.to_dict())
    return d.id
