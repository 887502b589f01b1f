"""SubRip (.srt) and WebVTT (.vtt) from a reel's captions: one cue per caption line, shown exactly
when the reel shows it (``captions.display_spans``). Small, hand-written writers: both formats are
a few lines of text per cue (RFC-less SubRip as every player reads it; W3C WebVTT)."""

from __future__ import annotations

from pathlib import Path

from studio.durable import atomic_write_bytes
from studio.editor.captions import display_spans
from studio.editor.document import Captions
from studio.speech import SpeechError

FORMATS = ("srt", "vtt")


def _stamp(us: int, sep: str) -> str:
    ms = max(0, int(us)) // 1000
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cue_text(text: str) -> str:
    # "-->" would end a cue's timing line early in VTT; a blank line would end the cue
    return " ".join(text.replace("-->", "->").split())


def to_srt(captions: Captions) -> str:
    blocks = []
    for n, (seg, a, b) in enumerate(display_spans(captions), 1):
        blocks.append(f"{n}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{_cue_text(seg.text)}\n")
    return "\n".join(blocks)


def to_vtt(captions: Captions) -> str:
    def esc(t: str) -> str:
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out = ["WEBVTT", ""]
    for seg, a, b in display_spans(captions):
        out += [f"{_stamp(a, '.')} --> {_stamp(b, '.')}", esc(_cue_text(seg.text)), ""]
    return "\n".join(out)


def write_subtitles(captions: Captions, path: Path, fmt: str | None = None) -> Path:
    """Write ``path`` as SRT or WebVTT (from ``fmt`` or the file's suffix). Raises SpeechError / OSError."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise SpeechError(f"Subtitles are written as .srt or .vtt, not “{path.suffix or fmt}”.")
    if not captions.segments:
        raise SpeechError("This reel has no captions yet; make them first (Auto captions).")
    atomic_write_bytes(path, (to_srt(captions) if fmt == "srt" else to_vtt(captions)).encode("utf-8"))
    return path
