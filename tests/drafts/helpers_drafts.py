"""Helpers shared by the drafts tests (imported by file name: tests/drafts is on sys.path via rootdir)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def make_take(layout, shared_media: Path, name: str = "minimal.mp4", take_id: str = "take1") -> Path:  # noqa: ANN001
    """A finished take in cache/takes, as the recorder leaves it."""
    d = layout.takes / take_id
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shared_media / name, d / "take.mp4")
    (d / "manifest.json").write_text(json.dumps({"id": take_id, "state": "finished", "media": "take.mp4"}))
    return d / "take.mp4"
