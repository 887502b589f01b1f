"""Takes on disk: cache/takes/<take_id>/ holds one recording and its manifest.

    cache/takes/<take_id>/manifest.json   {"id", "created_at", "state": "recording"|"finished",
                                           "source", "width", "height", "fps", "media": "take.mp4"}
    cache/takes/<take_id>/<media>         the crash-safe recording (playable even if the app died)

A take directory that still exists after its draft was saved is a bug; one left by a crash or an
unsaved session is an *unsaved take*, offered back to the creator and never silently deleted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from studio.paths import DataLayout

MEDIA_SUFFIXES = (".mp4", ".mov", ".mkv", ".ts")


@dataclass
class UnsavedTake:
    id: str
    dir: Path
    media: Path | None
    state: str            # "recording" (the app died mid-take) or "finished" (never saved or discarded)
    created_at: str | None
    size: int

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dir"], d["media"] = str(self.dir), str(self.media) if self.media else None
        return d


def read_manifest(take_dir: Path) -> dict:
    try:
        return json.loads((take_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def unsaved_takes(layout: DataLayout) -> list[UnsavedTake]:
    """Every take folder in cache/takes with media in it, oldest first."""
    found = []
    if not layout.takes.is_dir():
        return found
    for d in sorted(p for p in layout.takes.iterdir() if p.is_dir()):
        manifest = read_manifest(d)
        media = d / manifest["media"] if manifest.get("media") else None
        if media is None or not media.exists():
            media = next((f for f in sorted(d.iterdir()) if f.suffix.lower() in MEDIA_SUFFIXES), None)
        if media is None:
            continue
        found.append(UnsavedTake(id=manifest.get("id", d.name), dir=d, media=media,
                                 state=manifest.get("state", "recording"), created_at=manifest.get("created_at"),
                                 size=media.stat().st_size))
    found.sort(key=lambda t: (t.created_at or "", t.id))
    return found
