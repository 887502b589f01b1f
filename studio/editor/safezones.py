"""Where Reels, TikTok and Shorts draw their own buttons and captions over a vertical video, and
which texts of an edit would sit under them.

    zones("tiktok")                          # [Zone(name, x, y, w, h)] in fractions of a 9:16 canvas
    warnings = covered_overlays(edit, "reels", boxes)   # [SafeZoneWarning], a sentence each

The rectangles follow the platforms' published creative guides for 1080×1920 (rounded outward):
the header at the top, the caption, sound and profile block at the bottom, and the column of
buttons on the right. ``boxes`` are the overlays' rectangles on the canvas (``overlay_boxes``
draws them with the export's own rasterizer); a text is flagged when a noticeable part of it lies
under the platform's interface. The editor's viewport draws the same zones as its guide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from studio.editor.document import Edit, TextOverlay
from studio.editor.overlays import rasterize

PLATFORMS = {"reels": "Instagram Reels", "tiktok": "TikTok", "shorts": "YouTube Shorts"}


@dataclass(frozen=True)
class Zone:
    """A part of the picture the platform's interface covers (fractions of the canvas)."""
    name: str
    x: float
    y: float
    w: float
    h: float

    def overlap(self, x: float, y: float, w: float, h: float) -> float:
        """The area of the rectangle (x, y, w, h) under this zone."""
        ox = max(0.0, min(self.x + self.w, x + w) - max(self.x, x))
        oy = max(0.0, min(self.y + self.h, y + h) - max(self.y, y))
        return ox * oy


# px of 1080×1920: top bar, bottom block, right-hand buttons column (its vertical span)
_GUIDES = {
    "reels": {"top": 220, "bottom": 420, "right": 150, "right_from": 960},
    "tiktok": {"top": 160, "bottom": 480, "right": 160, "right_from": 860},
    "shorts": {"top": 190, "bottom": 400, "right": 150, "right_from": 940},
}


def zones(platform: str) -> list[Zone]:
    """The platform's covered areas. Raises ValueError for an unknown platform."""
    if platform not in _GUIDES:
        raise ValueError(f"Unknown platform “{platform}”; choose one of {', '.join(PLATFORMS)}.")
    g = _GUIDES[platform]
    W, H = 1080.0, 1920.0
    bottom_top = H - g["bottom"]
    return [Zone("top bar", 0.0, 0.0, 1.0, g["top"] / H),
            Zone("caption and sound", 0.0, bottom_top / H, 1.0, g["bottom"] / H),
            Zone("buttons", (W - g["right"]) / W, g["right_from"] / H, g["right"] / W, (bottom_top - g["right_from"]) / H)]


@dataclass(frozen=True)
class SafeZoneWarning:
    item_id: str
    kind: str                 # "text" | "caption"
    zone: str
    message: str


def covered_overlays(edit: Edit, platform: str, boxes: Mapping[str, tuple[float, float, float, float]], *,
                     min_share: float = 0.15) -> list[SafeZoneWarning]:
    """Texts (and the edit's caption cues, when given a box under their id) that sit at least
    ``min_share`` under one of the platform's zones. ``boxes``: id -> (x, y, w, h), fractions."""
    name = PLATFORMS.get(platform)
    if name is None:
        raise ValueError(f"Unknown platform “{platform}”; choose one of {', '.join(PLATFORMS)}.")
    texts = {t.id: t for t in edit.texts}
    out = []
    for item_id, (x, y, w, h) in boxes.items():
        area = max(w * h, 1e-9)
        for z in zones(platform):
            share = z.overlap(x, y, w, h) / area
            if share >= min_share:
                t = texts.get(item_id)
                kind = "text" if t is not None else "caption"
                label = f"“{_short(t.text)}”" if isinstance(t, TextOverlay) else "A caption"
                out.append(SafeZoneWarning(item_id, kind, z.name,
                                           f"{label} sits under {name}'s {z.name}; move it toward the middle "
                                           f"so viewers can read it."))
                break
    return out


def _short(text: str, n: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def overlay_boxes(edit: Edit, cache_dir: Path, asset_path: Callable[[str], Path]) -> dict[str, tuple[float, float, float, float]]:
    """Every text's rectangle on the canvas (fractions), as the export draws it (its keyframed
    places included: the box is the union over its keys). Needs a QGuiApplication (ensure_gui)."""
    cw, ch = edit.canvas.width, edit.canvas.height
    texts = {t.id: t for t in edit.texts}
    out = {}
    for r in rasterize(edit, cw, ch, Path(cache_dir), asset_path=asset_path):
        t = texts.get(r.id)
        if t is None:
            continue
        x0, y0, x1, y1 = r.x / cw, r.y / ch, (r.x + r.width) / cw, (r.y + r.height) / ch
        for k in t.keys:
            dx, dy = k.x - t.x, k.y - t.y
            hw, hh = r.width * k.scale / cw / 2, r.height * k.scale / ch / 2
            cx, cy = (r.x + r.width / 2) / cw + dx, (r.y + r.height / 2) / ch + dy
            x0, y0, x1, y1 = min(x0, cx - hw), min(y0, cy - hh), max(x1, cx + hw), max(y1, cy + hh)
        out[r.id] = (x0, y0, x1 - x0, y1 - y0)
    return out


def check_edit(edit: Edit, platform: str, cache_dir: Path, asset_path: Callable[[str], Path]) -> list[SafeZoneWarning]:
    """The one call the editor makes: which texts the platform's interface would hide."""
    return covered_overlays(edit, platform, overlay_boxes(edit, cache_dir, asset_path))
