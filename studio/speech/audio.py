"""The sound of an edit as the transcriber and the silence detector hear it: 16 kHz mono s16 PCM,
one stretch per clip, with the arithmetic that maps its times onto the timeline.

Each clip's *source* sound is decoded at its natural speed (a recogniser hears sped-up speech
badly); ``ClipAudio.to_timeline`` then places its times where the clip shows them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from studio.editor.document import US, Clip, Edit
from studio.media import ffmpeg
from studio.speech import SpeechCancelled, SpeechError

RATE = 16_000
Cancel = Callable[[], bool] | threading.Event | None


@dataclass
class ClipAudio:
    clip: Clip
    start_us: int          # where the clip starts on the timeline
    end_us: int
    samples: np.ndarray    # int16, RATE per second, of source [clip.source_in_us, clip.source_out_us)

    def to_timeline(self, source_offset_us: int) -> int:
        """A time inside ``samples`` (µs from its start) as a timeline time, kept inside the clip."""
        t = self.start_us + round(source_offset_us / self.clip.speed)
        return min(max(t, self.start_us), self.end_us)

    @property
    def duration_us(self) -> int:
        return len(self.samples) * US // RATE


def is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def decode_pcm(path, start_us: int, duration_us: int, cancel: Cancel = None) -> np.ndarray:  # noqa: ANN001
    """``duration_us`` of a file's sound from ``start_us`` as 16 kHz mono int16. Raises SpeechError."""
    # Trim after decoding, not with an input seek: seeking an AAC track starts 1024 samples late here,
    # which shifts every word and costs the recogniser its first syllable. Sound decodes fast.
    trim = f"atrim=start={start_us / US:.6f}:duration={duration_us / US:.6f},asetpts=PTS-STARTPTS"
    args = ["-v", "error", "-i", str(path), "-vn", "-sn", "-af", trim, "-ac", "1", "-ar", str(RATE), "-f", "s16le",
            "-acodec", "pcm_s16le", "pipe:1"]
    watch = cancel if isinstance(cancel, threading.Event) or cancel is None else cancel
    with ffmpeg.spawn(args, stdout=True, cancel=watch) as proc:
        data = proc.stdout.read()
        code = proc.wait()
        if proc.cancelled:
            raise SpeechCancelled()
        if code != 0:
            raise SpeechError(f"The sound of “{getattr(path, 'name', path)}” could not be read "
                              f"({(proc.error_lines or ['ffmpeg failed'])[-1]}).")
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").copy()


def edit_audio(edit: Edit, assets: Mapping[str, Any], cancel: Cancel = None) -> list[ClipAudio]:
    """The voice of every clip that has one (muted and silent clips are left out), in timeline order.
    ``assets`` maps asset id -> an object with ``path``, ``has_audio`` and ``kind``."""
    out = []
    for clip, a, b in edit.clip_ranges():
        asset = assets.get(clip.asset_id)
        if asset is None:
            raise SpeechError("A clip uses media that is missing from this draft.")
        if clip.muted or clip.volume == 0 or not getattr(asset, "has_audio", False) or asset.kind != "video":
            continue
        if is_cancelled(cancel):
            raise SpeechCancelled()
        pcm = decode_pcm(asset.path, clip.source_in_us, clip.source_duration_us, cancel)
        out.append(ClipAudio(clip, a, b, pcm))
    return out
