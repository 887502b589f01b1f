"""Cover thumbnails (cache/thumbs, bounded LRU, rebuilt on demand) and BlurHash placeholders.

The LQIP string lives in the draft row, so the tray can paint a blur with no file I/O; the JPEG
thumbnail is a cache file that may vanish at any time and is rebuilt from the media when asked for.
"""

from __future__ import annotations

import copy
import io
import logging
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Mapping

from studio.cachedir import evict_lru, touch
from studio.editor import document
from studio.editor.overlays import OverlayError, ensure_gui
from studio.editor.render_graph import RenderError, build_render, output_size
from studio.media import ffmpeg
from studio.media.frames import frame_jpeg
from studio.media.probe import MediaError

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


def cover_image(edit, assets: Mapping[str, object], *, max_side: int | None = None,  # noqa: ANN001 - Edit | dict
                overlay_dir: Path | None = None):  # noqa: ANN201 - PIL.Image.Image
    """The cover as the reel will show it: the frame at the cover time, composed on the canvas by
    the export's own render graph (framing, look, overlays), or the chosen cover image.

    ``assets``: asset_id -> MediaRef (absolute paths). ``max_side=None`` is full size (the
    canvas). The one cover painter: the tray's cards, ``studio drafts cover`` and the poster use it.
    Raises MediaError when there is nothing to show or no frame decodes; runs ffmpeg (off the UI thread).
    """
    from PIL import Image

    e = edit if isinstance(edit, document.Edit) else document.Edit.from_dict(edit)
    frame = document.cover_frame(e)
    if frame is None:  # no clips yet (e.g. only a picture): its first picture, as it is
        still = next((a for a in assets.values() if a.kind in ("video", "image")), None)
        if still is None:
            raise MediaError("no_video", "This draft has no picture to make a cover from.")
        return _still(still.path, max_side)
    if frame.asset_id not in assets:
        raise MediaError("no_video", "This draft has no picture to make a cover from.")
    if frame.timeline_us is None:  # a still image chosen as the cover
        return _still(assets[frame.asset_id].path, max_side)
    scale = 1.0 if max_side is None else min(1.0, max_side / max(e.canvas.width, e.canvas.height))
    w, h = output_size(e, (round(e.canvas.width * scale), round(e.canvas.height * scale)))
    e = _with_overlays_at(e, frame.timeline_us)
    try:
        argv = build_render(e, assets, out="pipe:1", size=(w, h), start_us=frame.timeline_us,
                            duration_us=e.canvas.frame_us, for_preview=True, overlay_dir=overlay_dir)
    except RenderError as err:
        raise MediaError("no_video", str(err)) from err
    proc = ffmpeg.run(argv, check=False, timeout=120)
    if proc.returncode != 0 or len(proc.stdout) < w * h * 3:
        log.info("cover render failed: %s", proc.stderr.decode("utf-8", "replace")[-500:])
        raise MediaError("unreadable", "The cover frame could not be decoded from this draft's media.")
    return Image.frombuffer("RGB", (w, h), proc.stdout[:w * h * 3], "raw", "RGB", 0, 1).copy()


def _still(path: Path, max_side: int | None):  # noqa: ANN202 - PIL.Image.Image
    from PIL import Image

    return Image.open(io.BytesIO(frame_jpeg(path, 0, max_side=max_side or 8192))).convert("RGB")


def _with_overlays_at(edit, t_us: int):  # noqa: ANN001, ANN202 - Edit -> Edit
    """Only the overlays on screen at ``t_us``; none if text cannot be drawn in this process
    (a worker thread of a process with no Qt GUI application)."""
    e = copy.copy(edit)
    e.texts = [t for t in edit.texts if t.start_us <= t_us < t.end_us]
    e.stickers = [s for s in edit.stickers if s.start_us <= t_us < s.end_us]
    if e.texts or e.stickers:
        try:
            ensure_gui()
        except OverlayError as err:
            log.info("cover drawn without its overlays: %s", err)
            e.texts, e.stickers = [], []
    return e


def image_bytes(img, fmt: str = "JPEG") -> bytes:  # noqa: ANN001 - PIL.Image.Image
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


class ThumbCache:
    """JPEG cover thumbnails keyed by the cover's fingerprint; total size bounded, least recently used evicted."""

    def __init__(self, folder: Path, cap_bytes: int = DEFAULT_CAP):
        self.folder = Path(folder)
        self.cap = cap_bytes
        self._lock = threading.Lock()

    def path_for(self, key: str) -> Path:
        return self.folder / f"cover-{key}.jpg"

    def cached(self, key: str) -> Path | None:
        p = self.path_for(key)
        return p if touch(p) else None

    def store(self, key: str, jpeg: bytes) -> Path:
        """Write a thumbnail atomically (readers never see half a file) and keep the cache bounded."""
        p = self.path_for(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f"{p.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(jpeg)
        os.replace(tmp, p)
        self.evict()
        return p

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
