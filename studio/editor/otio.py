"""Export a draft's timeline as OpenTimelineIO, to finish it in Resolve, Kdenlive or Premiere.

What maps: each clip becomes an OTIO Clip with an ExternalReference to the absolute media path, its
source range (the trim) and a LinearTimeWarp for its speed; the same clips form an audio track (the
original sound); music tracks become audio clips placed with gaps. What has no OTIO equivalent
(texts, stickers, looks, reframe, the caption and cover) is kept as metadata under "reel_studio"
on the timeline and on each clip, so nothing of the edit is lost. Times use the canvas frame rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import opentimelineio as otio

from studio.editor.document import US, Edit

META_KEY = "reel_studio"


def _rt(us: int, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(us * fps / US, fps)


def _range(start_us: int, dur_us: int, fps: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start_us, fps), _rt(dur_us, fps))


def _reference(asset: Any, fps: int) -> otio.schema.ExternalReference:
    ref = otio.schema.ExternalReference(target_url=str(Path(asset.path).absolute()))
    if asset.duration_us:
        ref.available_range = _range(0, asset.duration_us, fps)
    return ref


def to_otio(edit: Edit, assets: Mapping[str, Any], *, name: str = "Reel") -> otio.schema.Timeline:
    """Build the OTIO timeline. ``assets``: asset_id -> object with absolute ``path`` and ``duration_us``."""
    fps = edit.canvas.fps
    timeline = otio.schema.Timeline(name=name)
    timeline.global_start_time = _rt(0, fps)
    video = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    sound = otio.schema.Track(name="Original sound", kind=otio.schema.TrackKind.Audio)
    for clip in edit.clips:
        asset = assets.get(clip.asset_id)
        for track in (video, sound):
            if track is sound and (asset is None or not getattr(asset, "has_audio", False)):
                sound.append(otio.schema.Gap(source_range=_range(0, edit.clip_duration_us(clip), fps)))
                continue
            item = otio.schema.Clip(
                name=Path(asset.path).name if asset else clip.asset_id,
                media_reference=_reference(asset, fps) if asset else otio.schema.MissingReference(),
                source_range=_range(clip.source_in_us, clip.source_duration_us, fps))
            if clip.speed != 1.0:
                item.effects.append(otio.schema.LinearTimeWarp(time_scalar=clip.speed))
            item.metadata[META_KEY] = clip.to_dict()
            if track is sound and (clip.muted or clip.volume == 0):
                item.enabled = False
            track.append(item)
    timeline.tracks.append(video)
    timeline.tracks.append(sound)
    for m in edit.music:
        asset = assets.get(m.asset_id)
        track = otio.schema.Track(name="Music", kind=otio.schema.TrackKind.Audio)
        song_left = ((asset.duration_us or 0) if asset else 0) - m.offset_us
        length = song_left if m.duration_us is None else min(m.duration_us, song_left)
        length = min(length, max(edit.duration_us - m.start_us, 0))
        if length <= 0:
            continue
        if m.start_us:
            track.append(otio.schema.Gap(source_range=_range(0, m.start_us, fps)))
        item = otio.schema.Clip(name=Path(asset.path).name if asset else m.asset_id,
                                media_reference=_reference(asset, fps) if asset else otio.schema.MissingReference(),
                                source_range=_range(m.offset_us, length, fps))
        item.metadata[META_KEY] = m.to_dict()
        track.append(item)
        timeline.tracks.append(track)
    timeline.metadata[META_KEY] = {
        "schema_version": edit.schema_version, "canvas": edit.canvas.to_dict(),
        "texts": [t.to_dict() for t in edit.texts], "stickers": [s.to_dict() for s in edit.stickers],
        "audio": edit.audio.to_dict(), "caption": edit.caption, "cover": edit.cover.to_dict()}
    return timeline


def write_otio(edit: Edit, assets: Mapping[str, Any], out: Path, *, name: str = "Reel") -> Path:
    """Write ``.otio`` JSON to ``out`` (atomically). Raises OSError."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    otio.adapters.write_to_file(to_otio(edit, assets, name=name), str(tmp), adapter_name="otio_json")
    tmp.replace(out)
    return out
