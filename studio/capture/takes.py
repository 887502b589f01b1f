"""Takes on disk: cache/takes/<take_id>/ holds one recording and its manifest.

    cache/takes/<take_id>/manifest.json   {"id", "created_at", "state": "recording"|"finished",
                                           "source", "width", "height", "fps", "media": "take.mp4", ...}
    cache/takes/<take_id>/video.frag.mp4  while recording: fragmented MP4 (playable even if the app died)
    cache/takes/<take_id>/audio.pcm       while recording: the sound as raw PCM, placed by "audio" in the manifest
    cache/takes/<take_id>/take.mp4        once finished: picture and sound in one file ("media")
    cache/takes/<take_id>/.lock           flock()ed by the recorder while the take is being written

A take directory that still exists after its draft was saved is a bug; one left by a crash or an
unsaved session is an *unsaved take*, offered back to the creator and never silently deleted.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from studio import durable
from studio.paths import DataLayout
from studio.media.encode import RawAudio, finalize_take
from studio.media.probe import MediaError, probe

log = logging.getLogger(__name__)

MEDIA_SUFFIXES = (".mp4", ".mov", ".mkv", ".ts")
MANIFEST = "manifest.json"
LOCK = ".lock"
FRAGMENTED_VIDEO = "video.frag.mp4"
RAW_AUDIO = "audio.pcm"
FINISHED_MEDIA = "take.mp4"


@dataclass
class UnsavedTake:
    id: str
    dir: Path
    media: Path | None
    state: str            # "recording" (the app died mid-take) or "finished" (never saved or discarded)
    created_at: str | None
    size: int
    duration_us: int | None = None
    recovered: bool = False   # finished just now from what a crashed recorder left

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dir"], d["media"] = str(self.dir), str(self.media) if self.media else None
        return d


def read_manifest(take_dir: Path) -> dict:
    try:
        return json.loads((take_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(take_dir: Path, manifest: dict) -> None:
    """Replace the manifest atomically, so a crash leaves the old or the new one, never half of one."""
    durable.atomic_write_json(take_dir / MANIFEST, manifest)


class TakeLock:
    """Held by the recorder for the life of a take; the OS drops it if the process dies."""

    def __init__(self, take_dir: Path):
        self.path = take_dir / LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        durable.lock(self._fd, blocking=False)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self.path.unlink(missing_ok=True)


def is_being_recorded(take_dir: Path) -> bool:
    lock = take_dir / LOCK
    if not lock.exists():
        return False
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        return not durable.lock(fd, blocking=False)
    finally:
        os.close(fd)


def raw_audio_of(take_dir: Path, manifest: dict):  # noqa: ANN201 - encode.RawAudio | None
    audio = manifest.get("audio")
    if not audio:
        return None
    path = take_dir / audio.get("file", RAW_AUDIO)
    if not path.exists() or path.stat().st_size == 0:
        return None
    rate, channels = int(audio["sample_rate"]), int(audio["channels"])
    offset = audio.get("offset_us")
    return RawAudio(path, rate, channels, round((offset or 0) * rate / 1_000_000))


def finalize(take_dir: Path) -> Path:
    """Turn a take's live files into ``take.mp4`` (picture + sound) and mark it finished.

    Idempotent. Raises encode.FinalizeError if ffmpeg cannot read what was recorded (the raw
    files are then left untouched for a later attempt).
    """
    manifest = read_manifest(take_dir)
    out = take_dir / FINISHED_MEDIA
    video = take_dir / manifest.get("video", FRAGMENTED_VIDEO)
    if manifest.get("state") == "finished" and out.exists():
        return out
    if not video.exists() and out.exists():
        manifest.update(state="finished", media=FINISHED_MEDIA)
        write_manifest(take_dir, manifest)
        return out
    finalize_take(video, out, raw_audio_of(take_dir, manifest))
    manifest.update(state="finished", media=FINISHED_MEDIA, has_audio=bool(raw_audio_of(take_dir, manifest)))
    write_manifest(take_dir, manifest)
    video.unlink(missing_ok=True)
    (take_dir / RAW_AUDIO).unlink(missing_ok=True)
    log_file = take_dir / "ffmpeg.log"
    if log_file.exists() and log_file.stat().st_size == 0:
        log_file.unlink()
    return out


def media_of(take_dir: Path, manifest: dict) -> Path | None:
    """The take's media file: the one its manifest names, else the first media file in the folder."""
    media = take_dir / manifest["media"] if manifest.get("media") else None
    if media is None or not media.exists():
        media = next((f for f in sorted(take_dir.iterdir()) if f.suffix.lower() in MEDIA_SUFFIXES), None)
    return media


def discard(take_dir: Path) -> None:
    """Delete a take folder (the creator chose Discard)."""
    shutil.rmtree(take_dir, ignore_errors=True)


def unsaved_takes(layout: DataLayout, *, finalize_crashed: bool = True) -> list[UnsavedTake]:
    """Every take folder in cache/takes with media in it, oldest first.

    Takes a crashed recorder left in state "recording" are finished first (remuxed with their
    sound) so what is offered back plays everywhere; a take still being recorded is skipped.
    """
    found = []
    if not layout.takes.is_dir():
        return found
    for d in sorted(p for p in layout.takes.iterdir() if p.is_dir()):
        if is_being_recorded(d):
            continue
        manifest = read_manifest(d)
        recovered = False
        if finalize_crashed and manifest.get("state", "recording") == "recording" and (d / manifest.get(
                "video", FRAGMENTED_VIDEO)).exists():
            try:
                finalize(d)
                manifest, recovered = read_manifest(d), True
                (d / LOCK).unlink(missing_ok=True)
            except Exception as e:  # noqa: BLE001 - offered back as it is; never lost
                log.warning("could not finish recovered take %s: %s", d.name, e)
        media = media_of(d, manifest)
        if media is None:
            continue
        found.append(UnsavedTake(id=manifest.get("id", d.name), dir=d, media=media,
                                 state=manifest.get("state", "recording"), created_at=manifest.get("created_at"),
                                 size=media.stat().st_size, duration_us=_duration_us(media),
                                 recovered=recovered))
    found.sort(key=lambda t: (t.created_at or "", t.id))
    return found


def _duration_us(media: Path) -> int | None:
    try:
        return probe(media).duration_us
    except (MediaError, OSError):
        return None
