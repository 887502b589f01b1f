"""Probe media files with the bundled ffmpeg (the wheel ships no ffprobe).

``probe()`` reads the container header that ``ffmpeg -i`` prints and returns a ``MediaInfo``;
``require_video()`` additionally decodes the first frame, so a file whose header looks fine but
whose samples are broken or encrypted is refused with a sentence the creator can act on.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import StudioError
from studio.media import ffmpeg

US = 1_000_000


class MediaError(StudioError, ValueError):
    """A file we cannot use. ``reason`` is machine-readable, ``str(e)`` is for the creator."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class VideoStream:
    codec: str
    profile: str | None
    pix_fmt: str | None
    width: int          # coded size, before rotation
    height: int
    fps: float | None
    rotation: int = 0   # degrees clockwise the frames must be turned to look upright (0/90/180/270)

    @property
    def display_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


@dataclass
class AudioStream:
    codec: str
    sample_rate: int
    channels: int


@dataclass
class MediaInfo:
    path: Path
    format_name: str
    duration_us: int | None
    video: VideoStream | None = None
    audio: AudioStream | None = None
    encrypted: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "video" if self.video else "audio" if self.audio else "unknown"

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def duration(self) -> float | None:
        return None if self.duration_us is None else self.duration_us / US


_INPUT = re.compile(r"^Input #0, ([^,]+(?:,[^ ]+)*), from", re.MULTILINE)
_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:(\d+)[^:]*: (Video|Audio|Data|Subtitle|Attachment): (.*)$", re.MULTILINE)
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_SIZE = re.compile(r"\b(\d{1,5})x(\d{1,5})\b")
_FPS = re.compile(r"(\d+(?:\.\d+)?)(k?) fps")
_TBR = re.compile(r"(\d+(?:\.\d+)?)(k?) tbr")
_HZ = re.compile(r"(\d+) Hz")
_TAG = re.compile(r"^\s{4}(\w[\w.-]*)\s*:\s(.*)$", re.MULTILINE)


def _header(path: Path) -> str:
    try:
        proc = ffmpeg.run(["-i", str(path)], check=False, timeout=60)
    except subprocess.TimeoutExpired as e:
        raise MediaError("unreadable", f"Reading “{path.name}” took too long; the file may be damaged.") from e
    return proc.stderr.decode("utf-8", errors="replace")


def _number(m: re.Match | None) -> float | None:
    if not m:
        return None
    return float(m.group(1)) * (1000 if m.group(2) else 1)


def _split_codec(desc: str) -> tuple[str, str | None]:
    codec = desc.split(" ", 1)[0].rstrip(",")
    prof = re.match(r"\S+ \(([^)/]+)\)", desc)
    profile = prof.group(1) if prof and "/" not in prof.group(1) else None
    return codec, profile


def _stream_blocks(text: str) -> list[tuple[str, str, str]]:
    """(type, description, the indented lines that follow it) for every stream."""
    matches = list(_STREAM.finditer(text))
    blocks = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        blocks.append((m.group(2), m.group(3), text[m.end():end]))
    return blocks


def parse_header(path: Path, text: str) -> MediaInfo:
    m = _INPUT.search(text)
    if not m:
        if "Invalid data found" in text or "error reading header" in text or "moov atom not found" in text:
            raise MediaError("unreadable", f"“{path.name}” cannot be read: the file is damaged or incomplete.")
        if "No such file" in text:
            raise MediaError("missing", f"“{path}” does not exist.")
        if "Permission denied" in text:
            raise MediaError("unreadable", f"“{path.name}” cannot be opened: permission denied.")
        raise MediaError("not_media", f"“{path.name}” is not a video, audio or image file we can read.")
    info = MediaInfo(path=path, format_name=m.group(1), duration_us=None)
    d = _DURATION.search(text)
    if d:
        h, mi, s = d.groups()
        info.duration_us = round((int(h) * 3600 + int(mi) * 60 + float(s)) * US)
    header_tags = text[m.end(): text.find("Duration:") if "Duration:" in text else len(text)]
    info.tags = {k.strip(): v.strip() for k, v in _TAG.findall(header_tags)}
    info.encrypted = "Encryption initialization data" in text or re.search(r"\((encv|enca|drmi|drms) ", text) is not None
    for kind, desc, tail in _stream_blocks(text):
        if kind == "Video" and info.video is None and "attached pic" not in desc:
            codec, profile = _split_codec(desc)
            size = _SIZE.search(desc)
            pix = re.search(r"\), (\w+)(?:\(|,)", desc)
            rot = _ROTATION.search(tail)
            rotation = 0
            if rot:
                # ffmpeg prints the display matrix angle counter-clockwise; -90 means "turn 90° clockwise".
                rotation = int(round(-float(rot.group(1)))) % 360
            info.video = VideoStream(
                codec=codec, profile=profile,
                pix_fmt=None if not pix or pix.group(1) == "none" else pix.group(1),
                width=int(size.group(1)) if size else 0, height=int(size.group(2)) if size else 0,
                fps=_number(_FPS.search(desc)) or _number(_TBR.search(desc)), rotation=rotation,
            )
        elif kind == "Audio" and info.audio is None:
            codec, _ = _split_codec(desc)
            hz = _HZ.search(desc)
            channels = 1 if " mono" in desc else 6 if "5.1" in desc else 2
            info.audio = AudioStream(codec=codec, sample_rate=int(hz.group(1)) if hz else 0, channels=channels)
    if info.video and info.video.codec in ("png", "mjpeg", "webp", "bmp", "gif") and (
            info.duration_us is None or info.format_name.endswith("_pipe") or "image2" in info.format_name):
        info.video.fps = None
    return info


def probe(path: str | Path) -> MediaInfo:
    """Read the header of ``path``. Raises MediaError (missing, unreadable, not_media)."""
    path = Path(path)
    if not path.exists():
        raise MediaError("missing", f"“{path}” does not exist.")
    if path.is_dir():
        raise MediaError("not_media", f"“{path.name}” is a folder, not a media file.")
    return parse_header(path, _header(path))


def is_image(info: MediaInfo) -> bool:
    return info.video is not None and (info.video.fps is None or "image2" in info.format_name
                                       or info.format_name.endswith("_pipe"))


def require_video(path: str | Path) -> MediaInfo:
    """Probe and check that the file has a decodable picture.

    Raises MediaError with reason ``encrypted``, ``no_video``, ``unreadable`` or ``not_media``.
    """
    info = probe(path)
    name = Path(path).name
    if info.encrypted:
        raise MediaError("encrypted", f"“{name}” is encrypted (DRM-protected) media; it cannot be edited. "
                                      "Use the original, unprotected recording.")
    if info.video is None:
        if info.audio is not None:
            raise MediaError("no_video", f"“{name}” has no video, only sound. Add it to a reel as music instead.")
        raise MediaError("no_video", f"“{name}” has no video stream.")
    proc = ffmpeg.run(["-v", "error", "-i", str(path), "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"],
                      check=False, timeout=120)
    if proc.returncode != 0 or info.video.pix_fmt is None:
        raise MediaError("unreadable", f"“{name}” cannot be read: its video is damaged or incomplete.")
    return info
