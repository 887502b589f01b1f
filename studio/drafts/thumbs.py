"""Cover thumbnails (cache/thumbs, bounded LRU, rebuilt on demand) and BlurHash placeholders.

The LQIP string lives in the draft row, so the tray can paint a blur with no file I/O; the JPEG
thumbnail is a cache file that may vanish at any time and is rebuilt from the media when asked for.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import warnings
from pathlib import Path

from studio.cachedir import evict_lru, touch

log = logging.getLogger(__name__)
DEFAULT_CAP = 256 << 20
THUMB_SIDE = 480


def lqip_from_jpeg(jpeg: bytes) -> str:
    """A BlurHash of a frame: 4x3 components (3x4 for portrait), about 30 characters."""
    import blurhash
    from PIL import Image

    img = Image.open(io.BytesIO(jpeg))
    img.thumbnail((48, 48))
    img = img.convert("RGB")
    x, y = (3, 4) if img.height > img.width else (4, 3)
    with warnings.catch_warnings():  # blurhash-python uses Image.getdata, deprecated in Pillow 12
        warnings.simplefilter("ignore", DeprecationWarning)
        return blurhash.encode(img, x, y)


def cover_point(edit: dict, fallback_asset_id: str | None) -> tuple[str | None, int]:
    """Which asset and which source time the cover time of ``edit`` falls on (timeline -> source)."""
    t = int(((edit or {}).get("cover") or {}).get("time_us") or 0)
    clips = (edit or {}).get("clips") or []
    elapsed = 0
    for clip in clips:
        start, end = int(clip.get("source_in_us", 0)), int(clip.get("source_out_us", 0))
        length = max(0, end - start)
        if t < elapsed + length or clip is clips[-1]:
            return clip.get("asset_id"), start + min(max(0, t - elapsed), max(0, length - 1))
        elapsed += length
    return fallback_asset_id, 0


class ThumbCache:
    """JPEG thumbnails keyed by (asset, source time); total size bounded, least recently used evicted."""

    def __init__(self, folder: Path, cap_bytes: int = DEFAULT_CAP):
        self.folder = Path(folder)
        self.cap = cap_bytes
        self._lock = threading.Lock()

    def path_for(self, asset_id: str, time_us: int) -> Path:
        return self.folder / f"{asset_id}-{int(time_us)}.jpg"

    def cached(self, asset_id: str, time_us: int) -> Path | None:
        p = self.path_for(asset_id, time_us)
        return p if touch(p) else None

    def build(self, media: Path, asset_id: str, time_us: int, kind: str = "video") -> tuple[Path, bytes]:
        """Extract, store and return (path, jpeg bytes). Raises MediaError if no frame decodes."""
        from studio.media.frames import frame_jpeg

        jpeg = frame_jpeg(media, time_us if kind == "video" else 0, max_side=THUMB_SIDE)
        p = self.path_for(asset_id, time_us)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f"{p.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(jpeg)
        os.replace(tmp, p)
        self.evict()
        return p, jpeg

    def get(self, media: Path, asset_id: str, time_us: int, kind: str = "video") -> Path:
        return self.cached(asset_id, time_us) or self.build(media, asset_id, time_us, kind)[0]

    def evict(self) -> int:
        """Delete least recently used thumbnails until the total is under the cap. Returns bytes freed."""
        with self._lock:
            return evict_lru(self.folder, self.cap, (".jpg",))

    def total_bytes(self) -> int:
        try:
            return sum(e.stat().st_size for e in os.scandir(self.folder) if e.is_file())
        except OSError:
            return 0


def now_us() -> int:
    return time.time_ns() // 1000
