"""The edit document: what a creator did to a draft, as plain data (invariant 3 in DESIGN.md).

An edit never touches the source media. It is JSON with an integer ``schema_version``; older
versions are brought forward by the ordered ``MIGRATIONS``. Every object keeps the keys it does not
know in ``extra`` and writes them back, so a document saved by a newer build (or edited by hand)
survives a round trip through this one. Times are integer microseconds.

    edit = Edit.from_dict(draft.edit)      # migrates, validates types; raises EditError
    edit = trim_clip(edit, clip_id, in_us=500_000)   # operations return a new Edit
    draft_store.update_edit(draft.id, edit.to_dict())

Schema (current version 4; v3 adds the optional visual fields listed at the end, written only when
used; v4 the captions track):

    {"schema_version": 4,
     "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
     "clips": [{"id", "asset_id", "source_in_us", "source_out_us", "speed": 1.0, "volume": 1.0,
                "muted": false, "rotation": 0,
                "reframe": {"mode": "fill"|"fit", "scale": 1.0, "x": 0.0, "y": 0.0,
                            "crop": null | {"x", "y", "w", "h"}},
                "look": {"name": "none", "brightness": 0.0, "contrast": 0.0,
                         "saturation": 0.0, "warmth": 0.0}}],
     "texts": [{"id", "text", "font": "Inter", "size": 0.05, "color": "#FFFFFF",
                "background": null | "#RRGGBBAA", "align": "center", "bold": true,
                "x": 0.5, "y": 0.5, "rotation": 0.0, "start_us", "end_us"}],
     "stickers": [{"id", "source": "builtin:NAME" | "asset:ID", "x": 0.5, "y": 0.5,
                   "scale": 0.3, "rotation": 0.0, "opacity": 1.0, "start_us", "end_us"}],
     "music": [{"id", "asset_id", "start_us": 0, "offset_us": 0, "duration_us": null,
                "volume": 1.0, "fade_in_us": 0, "fade_out_us": 0, "role": "music"|"voice"}],
     "audio": {"original_volume": 1.0, "normalize_loudness": false, "loudness_target": -14.0},
     "caption": "", "cover": {"time_us": 0, "asset_id": null},
     "captions": {"segments": [{"id", "words": [{"text", "start_us", "end_us"}]}],
                  "style": {"preset": "karaoke"|"pop"|"box"|"outline", "size": 0.045,
                            "position": "lower"|"middle"|"upper", "color": "#FFFFFF",
                            "highlight": "#FFD400", "burn_in": true},
                  "language": "en", "engine": ""}}

Captions (v4) are timed on the timeline; their rules and operations live in
``studio.editor.captions`` (``validate`` calls it).

v3 (visual): clip ``"transition": null | {"kind": crossfade|dip|slide|zoom|whip, "duration_us"}`` (into
the next clip; the two overlap, so the reel is shorter by it); reframe ``"mode": "follow"`` with
``"keys": [{"t_us" (source time), "cx", "cy"}]`` (the window's centre, fractions of the source); text and
sticker ``"animate": {"enter": none|fade|pop|slide|typewriter, "exit": none|fade|pop|slide, "enter_us",
"exit_us"}`` and ``"keys": [{"t_us" (from the overlay's start), "x", "y", "scale"}]``; music
``"beats_us"``, ``"onsets_us"`` (song times) and ``"tempo_bpm"``.

Units: ``x``/``y`` of overlays are the overlay's centre as a fraction of the canvas (0..1); text
``size`` is the line height as a fraction of the canvas height; sticker ``scale`` is its width as a
fraction of the canvas width; reframe ``x``/``y`` shift the picture by a fraction of the canvas;
``rotation`` is degrees clockwise; look adjustments run from -1 to 1 (0 = unchanged).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from studio.editor.looks import LOOKS
from studio.errors import StudioError

CURRENT_VERSION = 4
US = 1_000_000

PRESETS: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "4:5": (1080, 1350),
    "16:9": (1920, 1080),
}
# The limits of an edit: ``validate`` enforces them and every widget offers exactly these ranges.
SPEED_RANGE = (0.25, 4.0)
VOLUME_RANGE = (0.0, 4.0)              # clip, music and original-sound volume (1.0 = as recorded)
FPS_RANGE = (1, 120)
FPS_CHOICES = (24, 25, 30, 50, 60)
CANVAS_SIDE_RANGE = (16, 4096)         # pixels, even numbers only
REFRAME_SCALE_RANGE = (0.1, 10.0)
REFRAME_SHIFT_RANGE = (-2.0, 2.0)      # fractions of the canvas
LOOK_RANGE = (-1.0, 1.0)               # brightness, contrast, saturation, warmth
TEXT_SIZE_RANGE = (0.005, 0.5)         # line height as a fraction of the canvas height
STICKER_SCALE_RANGE = (0.01, 4.0)      # width as a fraction of the canvas width
OPACITY_RANGE = (0.0, 1.0)
POSITION_RANGE = (-1.0, 2.0)           # an overlay's centre, fractions of the canvas
LOUDNESS_RANGE = (-40.0, -5.0)         # LUFS
CAPTION_MAX_CHARS = 2200
TRANSITION_KINDS = ("crossfade", "dip", "slide", "zoom", "whip")
TRANSITION_RANGE_US = (1, 5 * US)      # a transition's requested length
ANIMATIONS_IN = ("none", "fade", "pop", "slide", "typewriter")
ANIMATIONS_OUT = ("none", "fade", "pop", "slide")
ANIMATION_RANGE_US = (0, 10 * US)
KEY_SCALE_RANGE = (0.05, 10.0)
MUSIC_ROLES = ("music", "voice")       # a sound under the reel: a song, or a voiceover (music ducks under it)
# word-timed captions (v4): preset -> what the creator sees in the picker
CAPTION_PRESETS: dict[str, str] = {"karaoke": "Karaoke (word by word)", "pop": "Pop-in", "box": "Box",
                                   "outline": "Outline"}
CAPTION_POSITIONS = ("lower", "middle", "upper")
CAPTION_SIZE_RANGE = (0.02, 0.12)      # line height as a fraction of the canvas height
CAPTION_MAX_WORD_CHARS = 60
CAPTION_MAX_WORDS = 20_000
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


class EditError(StudioError, ValueError):
    """The edit document is invalid or an operation cannot apply; ``str(e)`` is for the creator."""


def new_id() -> str:
    return uuid.uuid4().hex


# --- generic (de)serialisation with unknown keys kept -------------------------------------------

class _Model:
    """Base for document objects: known fields are typed attributes, the rest goes to ``extra``.

    ``_nested`` names fields holding another model (or a list of them) so ``from_dict`` can
    recurse. Nested ``None`` stays ``None``.
    """

    _nested: ClassVar[dict[str, tuple[type, bool]]] = {}   # field -> (model class, is_list)

    @classmethod
    def from_dict(cls, data: Any, where: str = ""):
        if not isinstance(data, dict):
            raise EditError(f"The edit is damaged: {where or cls.__name__} should be an object.")
        types = {f.name: str(f.type) for f in dataclasses.fields(cls) if f.name != "extra"}
        known = set(types)
        kwargs: dict[str, Any] = {}
        for name in known:
            if name not in data:
                continue
            value = data[name]
            nested = cls._nested.get(name)
            if nested and value is None and "None" not in types[name]:
                raise EditError(f"The edit is damaged: {where}{name} is empty.")
            if nested and value is not None:
                model, is_list = nested
                if is_list:
                    if not isinstance(value, list):
                        raise EditError(f"The edit is damaged: {where}{name} should be a list.")
                    value = [model.from_dict(v, f"{where}{name}[{i}].") for i, v in enumerate(value)]
                else:
                    value = model.from_dict(value, f"{where}{name}.")
            kwargs[name] = copy.deepcopy(value) if not nested else value
        extra = {k: copy.deepcopy(v) for k, v in data.items() if k not in known}
        try:
            obj = cls(**kwargs, extra=extra)
        except TypeError as e:  # a required key is absent
            raise EditError(f"The edit is damaged: {where or cls.__name__} is incomplete ({e}).") from e
        obj._coerce(where)
        return obj

    def _coerce(self, where: str) -> None:
        """Check JSON types of known fields (ints stay ints, floats accept ints)."""
        for f in dataclasses.fields(self):
            if f.name == "extra" or f.name in self._nested:
                continue
            value = getattr(self, f.name)
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            setattr(self, f.name, _coerce_value(value, kind, f"{where}{f.name}"))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if isinstance(value, _Model):
                value = value.to_dict()
            elif isinstance(value, list) and f.name in self._nested:
                value = [v.to_dict() for v in value]
            else:
                value = copy.deepcopy(value)
            out[f.name] = value
        for k, v in self.extra.items():
            out.setdefault(k, copy.deepcopy(v))
        return out


def _coerce_value(value: Any, kind: str, where: str) -> Any:
    optional = kind.endswith("| None")
    base = kind.replace("| None", "").strip()
    if value is None:
        if optional:
            return None
        raise EditError(f"The edit is damaged: {where} is missing.")
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value != int(value):
            raise EditError(f"The edit is damaged: {where} should be a whole number.")
        return int(value)
    if base == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise EditError(f"The edit is damaged: {where} should be a number.")
        return float(value)
    if base == "bool":
        if not isinstance(value, bool):
            raise EditError(f"The edit is damaged: {where} should be true or false.")
        return value
    if base == "str":
        if not isinstance(value, str):
            raise EditError(f"The edit is damaged: {where} should be text.")
        return value
    return value


def _drop_defaults(out: dict, optional: dict) -> dict:
    """Leave out fields added in v3 while they hold their "nothing" value, so a document that uses
    none of them is written exactly as before."""
    for k, empty in optional.items():
        if out.get(k, empty) == empty:
            out.pop(k, None)
    return out


# --- the model ----------------------------------------------------------------------------------

@dataclass
class Canvas(_Model):
    preset: str = "9:16"
    width: int = 1080
    height: int = 1920
    fps: int = 30
    extra: dict = field(default_factory=dict)

    @property
    def frame_us(self) -> int:
        return round(US / self.fps)


@dataclass
class Crop(_Model):
    """A rectangle of the upright source picture, as fractions of its width and height."""
    x: float = 0.0
    y: float = 0.0
    w: float = 1.0
    h: float = 1.0
    extra: dict = field(default_factory=dict)


@dataclass
class ReframeKey(_Model):
    """Follow-subject framing at one source time: the centre of the visible window, as fractions
    of the upright source picture (0..1). Between keys the centre moves linearly."""
    t_us: int
    cx: float = 0.5
    cy: float = 0.5
    extra: dict = field(default_factory=dict)


@dataclass
class Reframe(_Model):
    mode: str = "fill"       # fill: cover the canvas (cropping); fit: whole picture, bars around it;
    scale: float = 1.0       # follow: fill, with the window's centre following ``keys`` over time
    x: float = 0.0
    y: float = 0.0
    crop: Crop | None = None
    keys: list[ReframeKey] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = {"crop": (Crop, False), "keys": (ReframeKey, True)}

    def to_dict(self) -> dict:
        return _drop_defaults(super().to_dict(), {"keys": []})


@dataclass
class Transition(_Model):
    """How a clip hands over to the next one: ``kind`` (TRANSITION_KINDS) over ``duration_us``.
    The two clips overlap by that long (whole canvas frames, at most half of either clip)."""
    kind: str = "crossfade"
    duration_us: int = 500_000
    extra: dict = field(default_factory=dict)


@dataclass
class Look(_Model):
    name: str = "none"
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    warmth: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def is_neutral(self) -> bool:
        return self.name == "none" and not any((self.brightness, self.contrast, self.saturation, self.warmth))


@dataclass
class Clip(_Model):
    id: str
    asset_id: str
    source_in_us: int
    source_out_us: int
    speed: float = 1.0
    volume: float = 1.0
    muted: bool = False
    rotation: int = 0
    reframe: Reframe = field(default_factory=Reframe)
    look: Look = field(default_factory=Look)
    transition: Transition | None = None      # into the next clip (ignored on the last clip)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = {"reframe": (Reframe, False), "look": (Look, False), "transition": (Transition, False)}

    def to_dict(self) -> dict:
        return _drop_defaults(super().to_dict(), {"transition": None})

    @property
    def source_duration_us(self) -> int:
        return self.source_out_us - self.source_in_us


@dataclass
class OverlayKey(_Model):
    """An overlay's place and size at ``t_us`` after its start: centre (fractions of the canvas)
    and a size factor. Between keys both move linearly; before the first and after the last they hold."""
    t_us: int
    x: float = 0.5
    y: float = 0.5
    scale: float = 1.0
    extra: dict = field(default_factory=dict)


@dataclass
class Animation(_Model):
    """How an overlay comes in and goes out (ANIMATIONS_IN / ANIMATIONS_OUT), and for how long."""
    enter: str = "none"
    exit: str = "none"
    enter_us: int = 400_000
    exit_us: int = 400_000
    extra: dict = field(default_factory=dict)


_OVERLAY_V3 = {"animate": None, "keys": []}
_OVERLAY_NESTED = {"animate": (Animation, False), "keys": (OverlayKey, True)}


@dataclass
class TextOverlay(_Model):
    id: str
    text: str
    start_us: int
    end_us: int
    font: str = "Inter"
    size: float = 0.05
    color: str = "#FFFFFF"
    background: str | None = None
    align: str = "center"
    bold: bool = True
    x: float = 0.5
    y: float = 0.5
    rotation: float = 0.0
    animate: Animation | None = None      # "animation" was taken by older files
    keys: list[OverlayKey] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = _OVERLAY_NESTED

    def to_dict(self) -> dict:
        return _drop_defaults(super().to_dict(), _OVERLAY_V3)


@dataclass
class Sticker(_Model):
    id: str
    source: str
    start_us: int
    end_us: int
    x: float = 0.5
    y: float = 0.5
    scale: float = 0.3
    rotation: float = 0.0
    opacity: float = 1.0
    animate: Animation | None = None      # "animation" was taken by older files
    keys: list[OverlayKey] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = _OVERLAY_NESTED

    def to_dict(self) -> dict:
        return _drop_defaults(super().to_dict(), _OVERLAY_V3)


@dataclass
class MusicTrack(_Model):
    id: str
    asset_id: str
    start_us: int = 0
    offset_us: int = 0
    duration_us: int | None = None
    volume: float = 1.0
    fade_in_us: int = 0
    fade_out_us: int = 0
    beats_us: list[int] = field(default_factory=list)     # song times of its beats (markers on its lane)
    onsets_us: list[int] = field(default_factory=list)    # song times of its other hits
    tempo_bpm: float | None = None
    role: str = "music"        # "voice": a voiceover; music is ducked under it (v4)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _drop_defaults(super().to_dict(), {"beats_us": [], "onsets_us": [], "tempo_bpm": None})


@dataclass
class AudioMix(_Model):
    original_volume: float = 1.0
    normalize_loudness: bool = False
    loudness_target: float = -14.0
    extra: dict = field(default_factory=dict)


@dataclass
class Cover(_Model):
    time_us: int = 0
    asset_id: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class CaptionWord(_Model):
    """One spoken word on the timeline (what the transcriber heard, or the creator's fix of it)."""
    text: str
    start_us: int
    end_us: int
    extra: dict = field(default_factory=dict)


@dataclass
class CaptionSegment(_Model):
    """One caption line: the words shown together on screen."""
    id: str
    words: list[CaptionWord] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = {"words": (CaptionWord, True)}

    @property
    def start_us(self) -> int:
        return self.words[0].start_us if self.words else 0

    @property
    def end_us(self) -> int:
        return self.words[-1].end_us if self.words else 0

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class CaptionStyle(_Model):
    """One look for every caption of a reel (presets in ``studio.editor.captions.PRESETS``)."""
    preset: str = "karaoke"
    size: float = 0.045            # line height as a fraction of the canvas height
    position: str = "lower"        # lower / middle / upper, inside the platform's safe zone
    color: str = "#FFFFFF"
    highlight: str = "#FFD400"     # the word being spoken (karaoke) / the box (box)
    burn_in: bool = True           # drawn into the picture; False: exported as a sidecar file
    extra: dict = field(default_factory=dict)


@dataclass
class Captions(_Model):
    segments: list[CaptionSegment] = field(default_factory=list)
    style: CaptionStyle = field(default_factory=CaptionStyle)
    language: str = "en"
    engine: str = ""               # which engine made them ("" = none yet)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = {"segments": (CaptionSegment, True), "style": (CaptionStyle, False)}

    @property
    def words(self) -> list[CaptionWord]:
        return [w for s in self.segments for w in s.words]


@dataclass
class Edit(_Model):
    schema_version: int = CURRENT_VERSION
    canvas: Canvas = field(default_factory=Canvas)
    clips: list[Clip] = field(default_factory=list)
    texts: list[TextOverlay] = field(default_factory=list)
    stickers: list[Sticker] = field(default_factory=list)
    music: list[MusicTrack] = field(default_factory=list)
    audio: AudioMix = field(default_factory=AudioMix)
    caption: str = ""
    cover: Cover = field(default_factory=Cover)
    captions: Captions = field(default_factory=Captions)
    extra: dict = field(default_factory=dict)
    _nested: ClassVar = {"canvas": (Canvas, False), "clips": (Clip, True), "texts": (TextOverlay, True),
                         "stickers": (Sticker, True), "music": (MusicTrack, True), "audio": (AudioMix, False),
                         "cover": (Cover, False), "captions": (Captions, False)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> "Edit":
        """Load any supported version (migrating it) and check it. Raises EditError."""
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except ValueError as e:
                raise EditError("The edit is not valid JSON.") from e
        edit = super().from_dict(migrate(data), where)
        validate(edit)
        return edit

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    # timeline helpers -------------------------------------------------------------------------
    def clip(self, clip_id: str) -> Clip:
        return _find(self.clips, clip_id, "clip")

    def clip_index(self, clip_id: str) -> int:
        return self.clips.index(self.clip(clip_id))

    def clip_duration_us(self, clip: Clip) -> int:
        return clip_duration_us(clip, self.canvas.fps)

    def clip_start_us(self, clip_id: str) -> int:
        for c, a, _b in self.clip_ranges():
            if c.id == clip_id:
                return a
        raise EditError("That clip is no longer in the edit.")

    def transition_frames(self) -> list[int]:
        """Per clip, how many canvas frames it overlaps the next one (its transition; 0 for none).

        A transition lasts whole frames, at most (n - 1) // 2 of either neighbour's n frames, so
        no moment ever shows three clips and every clip keeps a frame of its own."""
        fps = self.canvas.fps
        n = [max(1, round(self.clip_duration_us(c) * fps / US)) for c in self.clips]
        out = []
        for i, c in enumerate(self.clips):
            if c.transition is None or i + 1 >= len(self.clips):
                out.append(0)
                continue
            want = max(1, round(c.transition.duration_us * fps / US))
            out.append(max(0, min(want, (n[i] - 1) // 2, (n[i + 1] - 1) // 2)))
        return out

    def clip_ranges(self) -> list[tuple[Clip, int, int]]:
        """(clip, timeline start, timeline end) in order; a clip with a transition overlaps the next."""
        out, t = [], 0
        fps = self.canvas.fps
        overlaps = self.transition_frames() if any(c.transition for c in self.clips) else [0] * len(self.clips)
        for c, k in zip(self.clips, overlaps):
            d = self.clip_duration_us(c)
            out.append((c, t, t + d))
            t += d - round(k * US / fps)
        return out

    @property
    def duration_us(self) -> int:
        """The reel's length: clips end to end, minus what their transitions overlap."""
        ranges = self.clip_ranges()
        return max(b for _c, _a, b in ranges) if ranges else 0

    def clip_at(self, t_us: int) -> tuple[Clip, int] | None:
        """The clip shown at timeline time ``t_us`` and the source time it shows."""
        for c, a, b in self.clip_ranges():
            if a <= t_us < b:
                return c, c.source_in_us + min(round((t_us - a) * c.speed), max(c.source_duration_us - 1, 0))
        return None


def clip_duration_us(clip: Clip, fps: int) -> int:
    """Length on the timeline: trimmed length / speed, never less than one canvas frame.

    A one-frame source (a still, or a 40 ms file) would otherwise vanish; it is held for a frame.
    """
    return max(round(clip.source_duration_us / clip.speed), round(US / fps))


# --- facts: the questions every other part asks about an edit (DESIGN: one owner per fact) ------

@dataclass(frozen=True)
class CoverFrame:
    """The picture a reel's cover shows: a source frame of one asset (or a still image).

    ``timeline_us`` is the start of the canvas frame shown (None for a cover image); ``clip_id`` is
    the clip under it. Render ``timeline_us`` through the render graph to see the cover as it will
    be published; read ``asset_id`` at ``source_us`` for the bare source frame.
    """
    asset_id: str
    source_us: int
    clip_id: str | None = None
    timeline_us: int | None = None


def _as_edit(edit: "Edit | dict") -> "Edit":
    return edit if isinstance(edit, Edit) else Edit.from_dict(edit)


def duration_us(edit: "Edit | dict") -> int:
    """The reel's length: what the editor shows, the tray stores and the export lasts (to the frame).

    Accepts a stored document (migrated and checked on the way; raises EditError)."""
    return _as_edit(edit).duration_us


def frame_start_us(edit: Edit, t_us: int) -> int:
    """The start of the canvas frame on screen at ``t_us``."""
    fps = edit.canvas.fps
    n = (int(t_us) * fps) // US
    return -(-n * US // fps)


def last_frame_us(edit: Edit) -> int:
    """Start of the reel's last canvas frame (an export has round(duration × fps) frames)."""
    fps = edit.canvas.fps
    frames = max(1, round(edit.duration_us * fps / US))
    return -(-(frames - 1) * US // fps)


def clip_at(edit: "Edit | dict", t_us: int) -> tuple[Clip, int] | None:
    """Which clip timeline time ``t_us`` shows, and the source time it shows (speed included)."""
    return _as_edit(edit).clip_at(int(t_us))


def cover_frame(edit: "Edit | dict") -> CoverFrame | None:
    """What the cover is: the chosen image, or the frame at the cover time (kept inside the reel).

    None when there is nothing to show (no clips and no cover image)."""
    e = _as_edit(edit)
    if e.cover.asset_id is not None:
        return CoverFrame(asset_id=e.cover.asset_id, source_us=0)
    if not e.clips:
        return None
    t = frame_start_us(e, min(max(0, e.cover.time_us), last_frame_us(e)))
    hit = e.clip_at(t)
    if hit is None:  # rounding at the very end: the last clip's last frame
        clip = e.clips[-1]
        hit = clip, max(clip.source_out_us - 1, clip.source_in_us)
    clip, source = hit
    return CoverFrame(asset_id=clip.asset_id, source_us=source, clip_id=clip.id, timeline_us=t)


def cover_fingerprint(edit: "Edit | dict") -> str:
    """A short key that changes whenever the cover's picture may change (its clip, the source frame,
    the canvas, the clip's framing and look, overlays on screen at that moment). Cache covers by it."""
    e = _as_edit(edit)
    frame = cover_frame(e)
    parts: dict[str, Any] = {"canvas": e.canvas.to_dict(), "cover": dataclasses.asdict(frame) if frame else None}
    if frame is not None and frame.clip_id is not None:
        t = frame.timeline_us or 0
        parts["clip"] = e.clip(frame.clip_id).to_dict()
        parts["overlays"] = [o.to_dict() for o in [*e.texts, *e.stickers] if o.start_us <= t < o.end_us]
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


def music_length_us(track: MusicTrack, song_us: int | None) -> int:
    """How long a music track plays on the timeline: the song after its offset, cut to the track's
    length if one is set (never negative). ``song_us`` is the music file's duration."""
    song = max(0, int(song_us or 0) - track.offset_us)
    return max(0, song if track.duration_us is None else min(song, track.duration_us))


def initial_edit(assets: Any, *, preset: str = "9:16", fps: int = 30) -> Edit:
    """The edit a new draft starts with, at the current schema version: one clip per video asset, in
    order, each whole. ``assets`` are MediaAsset-like (``id``, ``kind``, ``duration_us``, ``video_codec``)."""
    e = new_edit(preset, fps)
    for a in assets:
        if a.kind == "video" and getattr(a, "video_codec", None):
            e.clips.append(Clip(id=new_id(), asset_id=a.id, source_in_us=0,
                                source_out_us=max(int(a.duration_us or 0), 1)))
    validate(e)
    return e


def _find(items: list, item_id: str, what: str):
    for it in items:
        if it.id == item_id:
            return it
    raise EditError(f"That {what} is no longer in the edit.")


# --- migrations ---------------------------------------------------------------------------------

def _v1_to_v2(doc: dict) -> dict:
    """v2 adds the audio mix block (original-audio volume, loudness normalisation)."""
    doc.setdefault("audio", {"original_volume": 1.0, "normalize_loudness": False, "loudness_target": -14.0})
    return doc


def _v2_to_v3_visual(doc: dict) -> dict:
    """v3 (visual) adds clip transitions, follow-subject reframe keys and animated overlays; all are
    optional with defaults that mean "as before", so an older document needs no change."""
    return doc


def _v3_to_v4_captions(doc: dict) -> dict:
    """v4 adds the captions track (word-timed segments) and its one style per reel."""
    doc.setdefault("captions", {"segments": [], "style": {"preset": "karaoke", "size": 0.045, "position": "lower",
                                                          "color": "#FFFFFF", "highlight": "#FFD400",
                                                          "burn_in": True},
                                "language": "en", "engine": ""})
    return doc


# MIGRATIONS[n] turns a version-n document into version n+1. Append only; never edit an old step.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2, 2: _v2_to_v3_visual, 3: _v3_to_v4_captions}


def migrate(data: Any) -> dict:
    """Bring a document of any older version to CURRENT_VERSION (a copy). Raises EditError."""
    if not isinstance(data, dict):
        raise EditError("The edit is damaged: it should be a JSON object.")
    doc = copy.deepcopy(data)
    version = doc.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EditError("The edit is damaged: its schema_version is not a positive whole number.")
    if version > CURRENT_VERSION:
        raise EditError(f"This edit was made by a newer Reel Studio (format {version}); "
                        f"update the app to open it (this one reads up to format {CURRENT_VERSION}).")
    while version < CURRENT_VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["schema_version"] = version
    return doc


# --- validation ---------------------------------------------------------------------------------

def validate(edit: Edit, asset_ids: set[str] | None = None) -> None:
    """Raise EditError with the first problem found, worded for the creator.

    With ``asset_ids`` it also checks every referenced asset belongs to the draft.
    """
    c = edit.canvas
    if c.preset not in PRESETS and c.preset != "custom":
        raise EditError(f"Unknown canvas shape {c.preset!r}; choose one of {', '.join(PRESETS)}.")
    lo, hi = CANVAS_SIDE_RANGE
    if not (lo <= c.width <= hi and lo <= c.height <= hi) or c.width % 2 or c.height % 2:
        raise EditError("The canvas size must be even numbers between 16 and 4096 pixels.")
    if not FPS_RANGE[0] <= c.fps <= FPS_RANGE[1]:
        raise EditError("The frame rate must be between 1 and 120 frames per second.")
    ids: set[str] = set()
    for i, clip in enumerate(edit.clips, 1):
        _unique(ids, clip.id)
        if clip.source_in_us < 0 or clip.source_out_us <= clip.source_in_us:
            raise EditError(f"Clip {i} ends before it starts; trim it again.")
        if not SPEED_RANGE[0] <= clip.speed <= SPEED_RANGE[1]:
            raise EditError(f"Clip {i}: speed must be between 0.25× and 4×.")
        if not VOLUME_RANGE[0] <= clip.volume <= VOLUME_RANGE[1]:
            raise EditError(f"Clip {i}: volume must be between 0 and 400 %.")
        if clip.rotation % 90 or not 0 <= clip.rotation < 360:
            raise EditError(f"Clip {i}: rotation must be 0, 90, 180 or 270 degrees.")
        r = clip.reframe
        if r.mode not in ("fill", "fit", "follow"):
            raise EditError(f"Clip {i}: reframe must be “fill”, “fit” or “follow”.")
        _reframe_keys_ok(r, i)
        _transition_ok(clip.transition, i)
        lo, hi = REFRAME_SHIFT_RANGE
        if not REFRAME_SCALE_RANGE[0] <= r.scale <= REFRAME_SCALE_RANGE[1] or not (lo <= r.x <= hi and lo <= r.y <= hi):
            raise EditError(f"Clip {i}: the picture is scaled or moved too far.")
        if r.crop is not None:
            k = r.crop
            if not (0 <= k.x < 1 and 0 <= k.y < 1 and 0 < k.w <= 1 and 0 < k.h <= 1
                    and k.x + k.w <= 1.000001 and k.y + k.h <= 1.000001):
                raise EditError(f"Clip {i}: the crop must lie inside the picture.")
        _look_ok(clip.look, i)
        _asset_ok(asset_ids, clip.asset_id, f"Clip {i}")
    for i, t in enumerate(edit.texts, 1):
        _unique(ids, t.id)
        _range_ok(t.start_us, t.end_us, f"Text {i}")
        if not TEXT_SIZE_RANGE[0] <= t.size <= TEXT_SIZE_RANGE[1]:
            raise EditError(f"Text {i}: size must be between 0.5 % and 50 % of the picture height.")
        if not _COLOR.match(t.color) or (t.background is not None and not _COLOR.match(t.background)):
            raise EditError(f"Text {i}: colours are written #RRGGBB or #RRGGBBAA.")
        if t.align not in ("left", "center", "right"):
            raise EditError(f"Text {i}: alignment must be left, center or right.")
        _position_ok(t.x, t.y, f"Text {i}")
        _animation_ok(t, f"Text {i}")
    for i, s in enumerate(edit.stickers, 1):
        _unique(ids, s.id)
        _range_ok(s.start_us, s.end_us, f"Sticker {i}")
        if not (s.source.startswith("builtin:") or s.source.startswith("asset:")) or len(s.source) < 8:
            raise EditError(f"Sticker {i}: its image is neither a bundled sticker nor an imported image.")
        if s.source.startswith("asset:"):
            _asset_ok(asset_ids, s.source[6:], f"Sticker {i}")
        if not STICKER_SCALE_RANGE[0] <= s.scale <= STICKER_SCALE_RANGE[1] \
                or not OPACITY_RANGE[0] <= s.opacity <= OPACITY_RANGE[1]:
            raise EditError(f"Sticker {i}: size or opacity out of range.")
        _position_ok(s.x, s.y, f"Sticker {i}")
        _animation_ok(s, f"Sticker {i}")
    for i, m in enumerate(edit.music, 1):
        _unique(ids, m.id)
        if m.start_us < 0 or m.offset_us < 0 or (m.duration_us is not None and m.duration_us <= 0):
            raise EditError(f"Music {i}: start, offset and length cannot be negative.")
        if not VOLUME_RANGE[0] <= m.volume <= VOLUME_RANGE[1] or m.fade_in_us < 0 or m.fade_out_us < 0:
            raise EditError(f"Music {i}: volume or fades out of range.")
        if m.role not in MUSIC_ROLES:
            raise EditError(f"Music {i}: it is either music or a voiceover.")
        _asset_ok(asset_ids, m.asset_id, f"Music {i}")
        _markers_ok(m, i)
    a = edit.audio
    if not VOLUME_RANGE[0] <= a.original_volume <= VOLUME_RANGE[1]:
        raise EditError("The original sound volume must be between 0 and 400 %.")
    if not LOUDNESS_RANGE[0] <= a.loudness_target <= LOUDNESS_RANGE[1]:
        raise EditError("The loudness target must be between -40 and -5 LUFS.")
    if edit.cover.time_us < 0:
        raise EditError("The cover time cannot be negative.")
    if edit.cover.asset_id is not None:
        _asset_ok(asset_ids, edit.cover.asset_id, "The cover image")
    if len(edit.caption) > CAPTION_MAX_CHARS:
        raise EditError("The caption is longer than 2,200 characters.")
    validate_captions(edit.captions, ids)


# --- captions' rules (their operations: studio.editor.captions) ------------------------------------

def validate_captions(captions: Captions, ids: set[str]) -> None:
    """Raise EditError with the first problem of the captions track (``validate`` calls this)."""
    st = captions.style
    if st.preset not in CAPTION_PRESETS:
        raise EditError(f"Unknown caption style {st.preset!r}; choose one of {', '.join(CAPTION_PRESETS)}.")
    if st.position not in CAPTION_POSITIONS:
        raise EditError("Captions go lower, middle or upper on the picture.")
    if not CAPTION_SIZE_RANGE[0] <= st.size <= CAPTION_SIZE_RANGE[1]:
        raise EditError("The caption size must be between 2 % and 12 % of the picture height.")
    if not _COLOR.match(st.color) or not _COLOR.match(st.highlight):
        raise EditError("Caption colours are written #RRGGBB or #RRGGBBAA.")
    if not isinstance(captions.language, str) or len(captions.language) > 16:
        raise EditError("The edit is damaged: the captions' language is not a language code.")
    previous_end, count = 0, 0
    for i, seg in enumerate(captions.segments, 1):
        _unique(ids, seg.id)
        if not seg.words:
            raise EditError(f"The edit is damaged: caption line {i} has no words.")
        for w in seg.words:
            count += 1
            if not w.text.strip() or len(w.text) > CAPTION_MAX_WORD_CHARS or "\n" in w.text:
                raise EditError(f"The edit is damaged: caption line {i} has an empty or overlong word.")
            if w.start_us < 0 or w.end_us <= w.start_us:
                raise EditError(f"The edit is damaged: a word of caption line {i} ends before it starts.")
            if w.start_us < previous_end:
                raise EditError(f"The edit is damaged: the words of caption line {i} overlap or are out of order.")
            previous_end = w.end_us
    if count > CAPTION_MAX_WORDS:
        raise EditError("The captions have more words than a reel can hold.")


def _reframe_keys_ok(r: Reframe, i: int) -> None:
    last = -1
    for k in r.keys:
        if k.t_us <= last:
            raise EditError(f"Clip {i}: the follow-subject keyframes are out of order.")
        last = k.t_us
        if not (0.0 <= k.cx <= 1.0 and 0.0 <= k.cy <= 1.0):
            raise EditError(f"Clip {i}: a follow-subject keyframe lies outside the picture.")


def _animation_ok(item: "TextOverlay | Sticker", what: str) -> None:
    a = item.animate
    if a is not None:
        if a.enter not in ANIMATIONS_IN or a.exit not in ANIMATIONS_OUT:
            raise EditError(f"{what}: unknown animation; it comes in with {', '.join(ANIMATIONS_IN)} "
                            f"and goes out with {', '.join(ANIMATIONS_OUT)}.")
        if a.enter == "typewriter" and not isinstance(item, TextOverlay):
            raise EditError(f"{what}: only a text can be typed in.")
        lo, hi = ANIMATION_RANGE_US
        if not (lo <= a.enter_us <= hi and lo <= a.exit_us <= hi):
            raise EditError(f"{what}: an animation lasts between 0 and 10 seconds.")
    last = -1
    for k in item.keys:
        if k.t_us <= last:
            raise EditError(f"{what}: its keyframes are out of order.")
        last = k.t_us
        _position_ok(k.x, k.y, what)
        if not KEY_SCALE_RANGE[0] <= k.scale <= KEY_SCALE_RANGE[1]:
            raise EditError(f"{what}: a keyframe's size must be between 5 % and 1000 %.")


def _markers_ok(m: "MusicTrack", i: int) -> None:
    for name in ("beats_us", "onsets_us"):
        marks = getattr(m, name)
        if not isinstance(marks, list) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in marks):
            raise EditError(f"Music {i}: its beat markers are damaged (they should be whole, positive times).")
        if any(b <= a for a, b in zip(marks, marks[1:])):
            raise EditError(f"Music {i}: its beat markers are out of order.")
    if m.tempo_bpm is not None and not 20 <= m.tempo_bpm <= 400:
        raise EditError(f"Music {i}: a tempo of {m.tempo_bpm:g} BPM is not a tempo.")


def _transition_ok(t: "Transition | None", i: int) -> None:
    if t is None:
        return
    if t.kind not in TRANSITION_KINDS:
        raise EditError(f"Clip {i}: unknown transition {t.kind!r}; choose one of {', '.join(TRANSITION_KINDS)}.")
    if not TRANSITION_RANGE_US[0] <= t.duration_us <= TRANSITION_RANGE_US[1]:
        raise EditError(f"Clip {i}: a transition lasts between one frame and 5 seconds.")


def _unique(ids: set[str], item_id: str) -> None:
    if not item_id or item_id in ids:
        raise EditError("The edit is damaged: two items share the same id.")
    ids.add(item_id)


def _range_ok(start: int, end: int, what: str) -> None:
    if start < 0 or end <= start:
        raise EditError(f"{what} must end after it starts.")


def _position_ok(x: float, y: float, what: str) -> None:
    lo, hi = POSITION_RANGE
    if not (lo <= x <= hi and lo <= y <= hi):
        raise EditError(f"{what} is placed too far outside the picture.")


def _look_ok(look: Look, i: int) -> None:
    if look.name not in LOOKS:
        raise EditError(f"Clip {i}: unknown look {look.name!r}.")
    for v in (look.brightness, look.contrast, look.saturation, look.warmth):
        if not LOOK_RANGE[0] <= v <= LOOK_RANGE[1]:
            raise EditError(f"Clip {i}: adjustments run from -1 to 1.")


def _asset_ok(asset_ids: set[str] | None, asset_id: str, what: str) -> None:
    if asset_ids is not None and asset_id not in asset_ids:
        raise EditError(f"{what} uses media that is not part of this draft.")


# --- operations (pure: each returns a new, validated Edit) --------------------------------------

def _copy(edit: Edit) -> Edit:
    return copy.deepcopy(edit)


def _done(edit: Edit) -> Edit:
    validate(edit)
    return edit


def _apply(obj: _Model, changes: dict, allowed: set[str] | None = None) -> None:
    names = {f.name for f in dataclasses.fields(obj)} - {"extra", "id"}
    for k, v in changes.items():
        if k not in names or (allowed is not None and k not in allowed):
            raise EditError(f"“{k}” cannot be changed here.")
        nested = obj._nested.get(k)
        if nested and nested[1] and isinstance(v, list):
            v = [x if isinstance(x, nested[0]) else nested[0].from_dict(x, f"{k}[{i}].") for i, x in enumerate(v)]
        elif nested and isinstance(v, dict):
            current = getattr(obj, k)
            v = nested[0].from_dict({**(current.to_dict() if current is not None else {}), **v}, f"{k}.")
        setattr(obj, k, v)
    obj._coerce("")


def new_edit(preset: str = "9:16", fps: int = 30) -> Edit:
    w, h = PRESETS[preset]
    return Edit(canvas=Canvas(preset=preset, width=w, height=h, fps=fps))


def set_canvas(edit: Edit, preset: str, fps: int | None = None) -> Edit:
    if preset not in PRESETS:
        raise EditError(f"Unknown canvas shape {preset!r}; choose one of {', '.join(PRESETS)}.")
    e = _copy(edit)
    e.canvas.preset = preset
    e.canvas.width, e.canvas.height = PRESETS[preset]
    if fps is not None:
        e.canvas.fps = int(fps)
    return _done(e)


def add_clip(edit: Edit, asset_id: str, duration_us: int, *, index: int | None = None) -> tuple[Edit, str]:
    e = _copy(edit)
    clip = Clip(id=new_id(), asset_id=asset_id, source_in_us=0, source_out_us=max(int(duration_us), 1))
    e.clips.insert(len(e.clips) if index is None else index, clip)
    return _done(e), clip.id


def trim_clip(edit: Edit, clip_id: str, *, in_us: int | None = None, out_us: int | None = None,
              source_duration_us: int | None = None) -> Edit:
    """Move a clip's in and/or out point (source times). Keeps at least one canvas frame."""
    e = _copy(edit)
    c = e.clip(clip_id)
    new_in = c.source_in_us if in_us is None else int(in_us)
    new_out = c.source_out_us if out_us is None else int(out_us)
    if source_duration_us is not None:
        new_out = min(new_out, source_duration_us)
    new_in = max(new_in, 0)
    if new_out - new_in < 1:
        raise EditError("A clip cannot be trimmed shorter than one frame.")
    c.source_in_us, c.source_out_us = new_in, new_out
    return _done(e)


def split_clip(edit: Edit, clip_id: str, at_us: int) -> tuple[Edit, str]:
    """Split at timeline time ``at_us`` (inside the clip). Returns the edit and the new right part's id."""
    e = _copy(edit)
    c = e.clip(clip_id)
    start = e.clip_start_us(clip_id)
    offset = int(at_us) - start
    source_cut = c.source_in_us + round(offset * c.speed)
    if not c.source_in_us < source_cut < c.source_out_us or offset <= 0 or offset >= e.clip_duration_us(c):
        raise EditError("Put the playhead inside the clip to split it.")
    right = copy.deepcopy(c)
    right.id = new_id()
    right.source_in_us = source_cut
    c.source_out_us = source_cut
    c.transition = None     # the right part keeps the hand-over to the next clip
    e.clips.insert(e.clips.index(c) + 1, right)
    return _done(e), right.id


def move_clip(edit: Edit, clip_id: str, index: int) -> Edit:
    e = _copy(edit)
    c = e.clip(clip_id)
    e.clips.remove(c)
    e.clips.insert(max(0, min(int(index), len(e.clips))), c)
    return _done(e)


def delete_clip(edit: Edit, clip_id: str) -> Edit:
    e = _copy(edit)
    e.clips.remove(e.clip(clip_id))
    return _done(e)


def duplicate_clip(edit: Edit, clip_id: str) -> tuple[Edit, str]:
    e = _copy(edit)
    c = e.clip(clip_id)
    dup = copy.deepcopy(c)
    dup.id = new_id()
    e.clips.insert(e.clips.index(c) + 1, dup)
    return _done(e), dup.id


def update_clip(edit: Edit, clip_id: str, **changes: Any) -> Edit:
    """Speed, volume, muted, rotation, reframe={...}, look={...} (nested dicts merge)."""
    e = _copy(edit)
    _apply(e.clip(clip_id), changes, {"speed", "volume", "muted", "rotation", "reframe", "look",
                                      "source_in_us", "source_out_us", "transition"})
    return _done(e)


def add_text(edit: Edit, text: str, start_us: int = 0, end_us: int | None = None, **style: Any) -> tuple[Edit, str]:
    e = _copy(edit)
    end = end_us if end_us is not None else max(e.duration_us, int(start_us) + US)
    t = TextOverlay(id=new_id(), text=text, start_us=int(start_us), end_us=int(end))
    _apply(t, style)
    e.texts.append(t)
    return _done(e), t.id


def add_sticker(edit: Edit, source: str, start_us: int = 0, end_us: int | None = None, **style: Any) -> tuple[Edit, str]:
    e = _copy(edit)
    end = end_us if end_us is not None else max(e.duration_us, int(start_us) + US)
    s = Sticker(id=new_id(), source=source, start_us=int(start_us), end_us=int(end))
    _apply(s, style)
    e.stickers.append(s)
    return _done(e), s.id


def overlay(edit: Edit, overlay_id: str) -> TextOverlay | Sticker:
    for item in [*edit.texts, *edit.stickers]:
        if item.id == overlay_id:
            return item
    raise EditError("That overlay is no longer in the edit.")


def update_overlay(edit: Edit, overlay_id: str, **changes: Any) -> Edit:
    """Move (x, y), resize (size/scale), rotate, restyle or retime a text or sticker."""
    e = _copy(edit)
    _apply(overlay(e, overlay_id), changes)
    return _done(e)


def remove_overlay(edit: Edit, overlay_id: str) -> Edit:
    e = _copy(edit)
    item = overlay(e, overlay_id)
    (e.texts if isinstance(item, TextOverlay) else e.stickers).remove(item)
    return _done(e)


def add_music(edit: Edit, asset_id: str, start_us: int = 0, **options: Any) -> tuple[Edit, str]:
    e = _copy(edit)
    m = MusicTrack(id=new_id(), asset_id=asset_id, start_us=int(start_us))
    _apply(m, options)
    e.music.append(m)
    return _done(e), m.id


def update_music(edit: Edit, music_id: str, **changes: Any) -> Edit:
    """Move (start_us), trim (offset_us, duration_us), volume and fades."""
    e = _copy(edit)
    _apply(_find(e.music, music_id, "music track"), changes)
    return _done(e)


def remove_music(edit: Edit, music_id: str) -> Edit:
    e = _copy(edit)
    e.music.remove(_find(e.music, music_id, "music track"))
    return _done(e)


def update_audio(edit: Edit, **changes: Any) -> Edit:
    e = _copy(edit)
    _apply(e.audio, changes)
    return _done(e)


def set_caption(edit: Edit, caption: str) -> Edit:
    e = _copy(edit)
    e.caption = str(caption)
    return _done(e)


def set_cover(edit: Edit, *, time_us: int | None = None, asset_id: str | None = None) -> Edit:
    e = _copy(edit)
    if time_us is not None:
        e.cover.time_us = int(time_us)
    e.cover.asset_id = asset_id
    return _done(e)
