"""Bounded cache folders: files are touched when used and the least recently used go first.

Used for cache/thumbs (draft covers) and cache/overlays (rasterized text and stickers); both can
be rebuilt on demand, so evicting them only costs time.
"""

from __future__ import annotations

import os
from pathlib import Path


def touch(path: Path) -> bool:
    """Mark ``path`` as just used (its mtime is the LRU clock). False if it is gone."""
    try:
        os.utime(path)
    except OSError:
        return False
    return True


def evict_lru(folder: Path, cap_bytes: int, suffixes: tuple[str, ...]) -> int:
    """Delete the least recently used files ending in ``suffixes`` until ``folder`` holds at most
    ``cap_bytes`` of them. Returns the bytes freed; files that vanish meanwhile are skipped."""
    entries, total = [], 0
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(suffixes) and e.is_file():
                    st = e.stat()
                    entries.append((st.st_mtime, st.st_size, e.path))
                    total += st.st_size
    except OSError:
        return 0
    freed = 0
    for _mtime, size, path in sorted(entries):
        if total - freed <= cap_bytes:
            break
        try:
            os.unlink(path)
            freed += size
        except OSError:
            pass
    return freed
