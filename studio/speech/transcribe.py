"""Transcribe an edit, and find its silences: the two speech jobs, in timeline time.

Both decode each clip's source sound once (``audio.edit_audio``) and map what they find onto the
timeline, so they agree with what the reel plays. Pure functions of (edit, assets); the
EditorSession and ``studio edit`` run them off the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from studio.editor.document import Edit
from studio.editor.jumpcuts import cuts_from_silences
from studio.speech import SpeechError
from studio.speech.audio import Cancel, edit_audio
from studio.speech.engines import Engine, Word
from studio.speech.vad import DEFAULT_THRESHOLD_DB, silences

Progress = Callable[[float], None] | None
DECODE_SHARE = 0.1      # of the progress bar: reading the sound; the engine has the rest


def transcribe_edit(edit: Edit, assets: Mapping[str, Any], engine: Engine, *, progress: Progress = None,
                    cancel: Cancel = None) -> list[Word]:
    """Every spoken word of the reel, timed on the timeline. Raises SpeechError / SpeechCancelled."""
    report = progress or (lambda _f: None)
    report(0.0)
    clips = edit_audio(edit, assets, cancel)
    report(DECODE_SHARE)
    total = sum(len(c.samples) for c in clips) or 1
    done, words = 0, []
    for c in clips:
        def part(f: float, base=done, n=len(c.samples)) -> None:
            report(DECODE_SHARE + (1 - DECODE_SHARE) * (base + f * n) / total)
        for text, a, b in engine.transcribe(c.samples, progress=part, cancel=cancel):
            start, end = c.to_timeline(a), c.to_timeline(b)
            if end > start:
                words.append((text, start, end))
        done += len(c.samples)
    report(1.0)
    words.sort(key=lambda w: w[1])
    # engines can overlap a word's end with the next one's start by a frame: keep them in order
    out: list[Word] = []
    for text, a, b in words:
        if out and a < out[-1][2]:
            a = out[-1][2]
        if b > a:
            out.append((text, a, b))
    return out


@dataclass
class SilenceProposal:
    """What "Remove silences" would cut: ``cuts`` (timeline ranges, whole frames) found in ``silences``
    at ``threshold_db`` below full scale, each at least ``min_silence_us`` long, ``padding_us`` kept
    around speech. ``removed_us`` is how much shorter the reel gets."""
    silences: list[tuple[int, int]]
    cuts: list[tuple[int, int]]
    threshold_db: float
    min_silence_us: int
    padding_us: int
    snapped_to_words: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def removed_us(self) -> int:
        return sum(b - a for a, b in self.cuts)

    def to_dict(self) -> dict:
        return {"cuts": [{"start_us": a, "end_us": b} for a, b in self.cuts],
                "silences": [{"start_us": a, "end_us": b} for a, b in self.silences],
                "threshold_db": self.threshold_db, "min_silence_us": self.min_silence_us,
                "padding_us": self.padding_us, "removed_us": self.removed_us, "snapped_to_words": self.snapped_to_words}


def find_silences(edit: Edit, assets: Mapping[str, Any], *, threshold_db: float = DEFAULT_THRESHOLD_DB,
                  min_silence_us: int = 700_000, cancel: Cancel = None) -> list[tuple[int, int]]:
    """Timeline ranges where the reel's voice is quiet for at least ``min_silence_us``."""
    found: list[tuple[int, int]] = []
    for c in edit_audio(edit, assets, cancel):
        # a clip's sound may end before the clip does; what is past it is silent too
        quiet = silences(c.samples, threshold_db=threshold_db, min_silence_us=1)
        for a, b in quiet:
            found.append((c.to_timeline(a), c.to_timeline(b)))
        if c.to_timeline(c.duration_us) < c.end_us:
            found.append((c.to_timeline(c.duration_us), c.end_us))
    merged: list[list[int]] = []
    frame = edit.canvas.frame_us
    for a, b in sorted(found):
        if merged and a <= merged[-1][1] + frame:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b - a >= min_silence_us]


def propose_silence_cuts(edit: Edit, assets: Mapping[str, Any], *, min_silence_us: int = 700_000,
                         padding_us: int = 150_000, threshold_db: float = DEFAULT_THRESHOLD_DB,
                         cancel: Cancel = None) -> SilenceProposal:
    """The cuts "Remove silences" proposes (nothing is changed). Raises SpeechError."""
    if min_silence_us < 100_000 or min_silence_us > 60_000_000:
        raise SpeechError("The shortest silence to remove must be between 0.1 and 60 seconds.")
    if padding_us < 0 or padding_us > 5_000_000:
        raise SpeechError("The padding around speech must be between 0 and 5 seconds.")
    found = find_silences(edit, assets, threshold_db=threshold_db, min_silence_us=min_silence_us, cancel=cancel)
    cuts = cuts_from_silences(edit, found, padding_us)
    return SilenceProposal(found, cuts, threshold_db, min_silence_us, padding_us,
                           snapped_to_words=bool(edit.captions.segments))
