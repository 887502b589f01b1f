"""Named looks and colour adjustments as ffmpeg filter definitions.

A look is a short list of ``(filter_name, {option: value})`` pairs; the render graph applies them
per clip, so the preview (same graph, smaller size) and the export show the same colours.
Adjustments (brightness, contrast, saturation, warmth) run from -1 to 1 with 0 meaning unchanged.
"""

from __future__ import annotations

from typing import Any

FilterSpec = tuple[str, dict[str, Any]]

# Each look is a creator-facing name and the filters that make it.
LOOKS: dict[str, tuple[str, list[FilterSpec]]] = {
    "none": ("Original", []),
    "vivid": ("Vivid", [("eq", {"contrast": 1.12, "saturation": 1.35})]),
    "mono": ("Mono", [("hue", {"s": 0})]),
    "warm": ("Warm", [("colortemperature", {"temperature": 4800, "pl": 0.3})]),
    "cool": ("Cool", [("colortemperature", {"temperature": 9000, "pl": 0.3})]),
    "fade": ("Faded", [("eq", {"contrast": 0.85, "brightness": 0.04, "saturation": 0.75})]),
    "noir": ("Noir", [("hue", {"s": 0}), ("eq", {"contrast": 1.35, "brightness": -0.03})]),
    "vintage": ("Vintage", [("curves", {"preset": "vintage"})]),
}


def look_names() -> list[tuple[str, str]]:
    """(key, label) pairs for a picker, in display order."""
    return [(k, label) for k, (label, _) in LOOKS.items()]


def look_filters(name: str, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0,
                 warmth: float = 0.0) -> list[FilterSpec]:
    """The filters for a look plus adjustments; an empty list when everything is neutral."""
    specs = list(LOOKS.get(name, LOOKS["none"])[1])
    if brightness or contrast or saturation:
        # eq's ranges are wide; these spans keep the slider ends useful rather than destructive.
        specs.append(("eq", {"brightness": round(brightness * 0.25, 4),
                             "contrast": round(1 + contrast * 0.5, 4),
                             "saturation": round(1 + saturation * (1.0 if saturation > 0 else 0.99), 4)}))
    if warmth:
        # 6500 K is neutral; lower is warmer.
        specs.append(("colortemperature", {"temperature": round(6500 - warmth * 2500), "pl": 0.25}))
    return specs
