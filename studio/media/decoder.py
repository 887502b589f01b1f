"""Fast, exact frame access for the preview and the timeline (in-process decoding with PyAV).

Spawning ffmpeg for every seek costs ~100 ms before a single byte is decoded; an open decoder
seeks to the keyframe before ``t`` and decodes forward, and for a nearby forward seek (scrubbing,
playback, frame stepping) it simply keeps decoding. ``VideoDecoder.frame_at(t)`` returns the frame
that is on screen at ``t`` (the last frame whose timestamp is ≤ t), upright and as RGB.

    with VideoDecoder(path, rotation=asset.rotation) as dec:
        rgb = dec.frame_at(2_500_000, size=(540, 960))   # numpy uint8 (h, w, 3)

One decoder is not thread-safe; ``DecoderPool`` keeps one per file and serializes access to it.

Old x264 builds (before core 151) wrote High 4:4:4 streams with a chroma bug that libavcodec
works around only when it knows the encoder's build, which it learns from the SEI in the file's
first frame. A decoder that starts at a later keyframe (any seek, here or in an ffmpeg command)
never sees that SEI and paints green/grey blocks. ``decoder_hints(path)`` reads the build once and
every decoder — ours and ffmpeg's, through ``ffmpeg_input_options`` — is told it up front.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path

import numpy as np

from studio.media.probe import MediaError

US = 1_000_000
# Without a keyframe index, a forward seek shorter than this keeps decoding instead of jumping to a
# keyframe: decoding ~1 s of frames costs less than a seek plus the frames after the keyframe.
FORWARD_DECODE_US = 1_000_000
SEEK_COST_FRAMES = 6
DECODE_THREADS = 2


# x264 writes its version into a user-data SEI of the first frame: "x264 - core 142 r2431 ...".
_X264_SEI = re.compile(rb"x264 - core (\d{1,4})")
_HINT_PACKETS = 8   # the SEI sits in the first packet; a few more cover odd muxers


def decoder_hints(path: str | Path) -> dict[str, str]:
    """Decoder options (libavcodec names) a decoder starting mid-file needs to decode ``path`` as
    one starting at its first frame would: ``{"x264_build": "142"}`` for x264 streams, else {}.
    Cached per file version; unreadable files give {} (opening them reports the error)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return {}
    return dict(_hints(str(path), st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=256)
def _hints(path: str, _size: int, _mtime_ns: int) -> tuple[tuple[str, str], ...]:
    import av

    try:
        with av.open(path) as container:
            if not container.streams.video:
                return ()
            stream = container.streams.video[0]
            if stream.codec_context.name != "h264":
                return ()
            for n, packet in enumerate(container.demux(stream)):
                m = _X264_SEI.search(bytes(packet))
                if m:
                    return (("x264_build", str(int(m.group(1)))),)
                if n + 1 >= _HINT_PACKETS:
                    break
    except Exception:  # noqa: BLE001 - a file PyAV cannot read has no hints; the decoder says why
        return ()
    return ()


def ffmpeg_input_options(path: str | Path) -> dict[str, str]:
    """``decoder_hints`` as ffmpeg input options for the file's video decoder (``-x264_build:v N``),
    for commands that seek into ``path`` (render graph, thumbnails)."""
    return {f"{k}:v": v for k, v in decoder_hints(path).items()}


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a frame ``rotation`` degrees clockwise (np.rot90 turns counter-clockwise)."""
    k = (-(rotation // 90)) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def _frame_rotation(frame) -> int:  # noqa: ANN001 - av.VideoFrame
    """Degrees clockwise to turn a frame upright; ffmpeg states the display matrix counter-clockwise."""
    return int(round(-float(getattr(frame, "rotation", 0) or 0))) % 360


class VideoDecoder:
    """One open video file. ``rotation`` (clockwise degrees) defaults to what the file declares."""

    def __init__(self, path: str | Path, *, rotation: int | None = None):
        import av

        self.path = Path(path)
        try:
            self._container = av.open(str(self.path))
        except FileNotFoundError as e:
            raise MediaError("missing", f"“{self.path}” does not exist.") from e
        except Exception as e:  # noqa: BLE001 - PyAV raises many error types; all mean "can't read"
            raise MediaError("unreadable", f"“{self.path.name}” cannot be read: {e}") from e
        if not self._container.streams.video:
            self._container.close()
            raise MediaError("no_video", f"“{self.path.name}” has no video.")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        # Frame threads pipeline the decode, but a seek waits for every frame in flight before the
        # target comes out and throws them away at the next seek: each thread past two adds a
        # picture to every click (libavcodec's default is one per core plus one), while the chain of
        # reference frames from the keyframe gains little from more than two.
        self._stream.codec_context.thread_count = DECODE_THREADS
        hints = decoder_hints(self.path)
        if hints:  # before the first packet opens the codec: seeks must not lose the encoder's quirks
            self._stream.codec_context.options = {**self._stream.codec_context.options, **hints}
        self._tb = Fraction(self._stream.time_base)
        self.fps = float(self._stream.average_rate or self._stream.guessed_rate or 30)
        self._frames = None        # decode iterator positioned after _current
        self._current = None       # (pts_us, av.VideoFrame): the frame on screen at the last request
        self._ahead = None         # (pts_us, frame) decoded past the last request, not yet shown
        self._eof = False
        self._cache_key = None     # (pts_us, size) of the last converted frame
        self._cache_rgb = None
        self.seeks = 0             # keyframe seeks performed (for tests and the benchmark)
        self.decoded = 0           # pictures decoded (frames skipped as never shown are not)
        self.converted = 0         # frames converted to RGB (only frames asked for)
        self._skip_before = None   # pts of a seek target while rolling forward to it
        self._keyframes: list[int] | None = None
        if rotation is None:
            # The display matrix travels with decoded frames; the first one also proves the file decodes.
            first = self._next()
            if first is None:
                self.close()
                raise MediaError("unreadable", f"“{self.path.name}” has no decodable video frames.")
            self._ahead = first
            rotation = _frame_rotation(first[1])
        self.rotation = rotation % 360
        ctx = self._stream.codec_context
        self.coded_size = (ctx.width, ctx.height)
        w, h = self.coded_size
        self.display_size = (h, w) if self.rotation in (90, 270) else (w, h)
        start = self._stream.start_time
        self._start_us = self._to_us(start) if start is not None else 0
        dur = self._stream.duration
        if dur is not None:
            self.duration_us = self._to_us(dur)
        elif self._container.duration:
            self.duration_us = int(self._container.duration)  # AV_TIME_BASE is microseconds
        else:
            self.duration_us = 0

    # -- time helpers ---------------------------------------------------------------------------
    def _to_us(self, pts: int) -> int:
        return round(pts * self._tb * US)

    def _from_us(self, us: int) -> int:
        return int(Fraction(us, US) / self._tb)

    # -- decoding -------------------------------------------------------------------------------
    def _next(self):
        """The next decoded frame as (pts_us, frame), or None at the end of the stream."""
        if self._ahead is not None:
            item, self._ahead = self._ahead, None
            return item
        if self._eof:
            return None
        if self._frames is None:
            self._frames = self._decode()
        try:
            while True:
                frame = next(self._frames)
                pts = frame.pts if frame.pts is not None else frame.dts
                if pts is None:
                    continue
                return self._to_us(pts), frame
        except StopIteration:
            self._eof = True
            return None
        except Exception as e:  # noqa: BLE001 - corrupt packets end the stream for us
            self._eof = True
            raise MediaError("unreadable", f"“{self.path.name}” could not be decoded: {e}") from e

    def _decode(self):
        """Decoded frames in display order. While rolling forward from a keyframe to a seek target,
        frames no other frame refers to are not decoded at all when they cannot be the one shown
        (the next frame is still before the target): same pictures, fewer decodes."""
        ctx = self._stream.codec_context
        frame_pts = self._from_us(round(US / max(self.fps, 1.0)))
        for packet in self._container.demux(self._stream):
            target = self._skip_before
            skip = (target is not None and packet.pts is not None and frame_pts > 0
                    and packet.pts + 2 * frame_pts <= target)
            want = "NONREF" if skip else "DEFAULT"
            if ctx.skip_frame != want:
                ctx.skip_frame = want
            frames = ctx.decode(packet)
            self.decoded += len(frames)
            yield from frames

    def _seek(self, t_us: int) -> None:
        self._container.seek(self._from_us(max(t_us, self._start_us)), stream=self._stream, backward=True,
                             any_frame=False)
        self._skip_before = self._from_us(t_us)
        self._frames = None
        self._current = None
        self._ahead = None
        self._eof = False
        self.seeks += 1

    def _keyframes_us(self) -> list[int] | None:
        """Keyframe times (µs, presentation) from the container index; None when there is none."""
        if self._keyframes is None:
            try:
                entries = list(self._stream.index_entries)
            except Exception:  # noqa: BLE001 - no index support: fall back to a distance rule
                entries = []
            keys = [e.timestamp for e in entries if e.is_keyframe]
            if not keys:
                self._keyframes = []
            else:
                # The index holds decode times; shift them so the first one lines up with the first
                # presentation time (B-frame streams decode ahead of what they show).
                shift = (self._stream.start_time or 0) - entries[0].timestamp
                self._keyframes = sorted(self._to_us(k + shift) for k in keys)
        return self._keyframes or None

    def _needs_seek(self, t_us: int) -> bool:
        if self._current is None and self._ahead is None and self._frames is None:
            return True  # nothing decoded yet: start from the keyframe before t
        here = self._current[0] if self._current else (self._ahead[0] if self._ahead else None)
        if here is None or t_us < here:
            return True
        keys = self._keyframes_us()
        if keys is None:
            return t_us - here > FORWARD_DECODE_US
        # Forward: a seek lands on the last keyframe at or before t; it only pays off when that
        # keyframe is well past here (a seek restarts the decoder's pipeline: ~a few frames' work).
        # Without a keyframe in between, it would land before here and decode the same frames again.
        i = bisect.bisect_right(keys, t_us) - 1
        return i >= 0 and keys[i] > here + SEEK_COST_FRAMES * US / max(self.fps, 1.0)

    def _locate(self, t_us: int):
        """Position the decoder on the frame shown at t and return it (pts_us, frame)."""
        try:
            return self._locate_frame(t_us)
        finally:
            self._skip_before = None  # from here on (playback, stepping) every frame is needed

    def _locate_frame(self, t_us: int):
        t_us = max(t_us, self._start_us)
        if self._current is not None and self._current[0] <= t_us and (
                self._ahead is not None and t_us < self._ahead[0]):
            return self._current
        if self._needs_seek(t_us):
            self._seek(t_us)
        else:
            # Rolling forward to a later frame (scrubbing ahead, a jump within the GOP): the frames
            # before it are never shown, so those no other frame refers to need not be decoded.
            self._skip_before = self._from_us(t_us)
        while True:
            item = self._next()
            if item is None:
                if self._current is None:
                    # Seeked past the last frame (t beyond the end): show the last frame there is.
                    self._seek(max(self._start_us, self.duration_us + self._start_us - US))
                    item = self._last_frame()
                    if item is None:
                        raise MediaError("unreadable", f"“{self.path.name}” has no decodable frames.")
                    self._current = item
                return self._current
            if item[0] > t_us and self._current is not None:
                self._ahead = item
                return self._current
            self._current = item
            if item[0] > t_us:  # the very first frame starts after t (t before the stream start)
                return item

    def _last_frame(self):
        last = None
        while (item := self._next()) is not None:
            last = item
        return last

    def frame_at(self, t_us: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """RGB frame (h, w, 3) shown at ``t_us`` (µs from the stream start), upright, scaled to ``size``
        (width, height of the upright picture) when given. Raises MediaError if the file breaks."""
        pts_us, frame = self._locate(int(t_us) + self._start_us)
        key = (pts_us, size)
        if key == self._cache_key and self._cache_rgb is not None:
            return self._cache_rgb
        self.converted += 1
        if size is None:
            rgb = frame.to_ndarray(format="rgb24")
        else:
            w, h = size
            if self.rotation in (90, 270):
                w, h = h, w
            # bicubic, like ffmpeg's scale filter, so fast previews match the render graph closely
            rgb = frame.to_ndarray(format="rgb24", width=int(w), height=int(h), interpolation="BICUBIC")
        rgb = _rotate(rgb, self.rotation)
        self._cache_key, self._cache_rgb = key, rgb
        return rgb

    def frame_time_at(self, t_us: int) -> int:
        """Timestamp (µs from the stream start) of the frame shown at ``t_us``."""
        return self._locate(int(t_us) + self._start_us)[0] - self._start_us

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> "VideoDecoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DecoderPool:
    """A decoder per file (LRU, bounded), each used by one thread at a time."""

    def __init__(self, max_open: int = 8):
        self._max = max_open
        self._lock = threading.Lock()
        self._decoders: OrderedDict[tuple[str, int | None], tuple[VideoDecoder, threading.Lock]] = OrderedDict()

    def _get(self, path: Path, rotation: int | None) -> tuple[VideoDecoder, threading.Lock]:
        key = (str(path), rotation)
        with self._lock:
            if key in self._decoders:
                self._decoders.move_to_end(key)
                return self._decoders[key]
        dec = VideoDecoder(path, rotation=rotation)
        with self._lock:
            entry = self._decoders.setdefault(key, (dec, threading.Lock()))
            if entry[0] is not dec:
                dec.close()
            while len(self._decoders) > self._max:
                _k, (old, old_lock) = self._decoders.popitem(last=False)
                with old_lock:
                    old.close()
            return entry

    def frame_at(self, path: str | Path, t_us: int, *, size: tuple[int, int] | None = None,
                 rotation: int | None = None) -> np.ndarray:
        dec, lock = self._get(Path(path), rotation)
        with lock:
            return dec.frame_at(t_us, size=size)

    def counts(self) -> dict[str, int]:
        """Work done so far by the open decoders: keyframe seeks, pictures decoded, frames converted."""
        with self._lock:
            decs = [dec for dec, _lock in self._decoders.values()]
        return {k: sum(getattr(d, k) for d in decs) for k in ("seeks", "decoded", "converted")}

    def close(self) -> None:
        with self._lock:
            items = list(self._decoders.values())
            self._decoders.clear()
        for dec, lock in items:
            with lock:
                dec.close()
