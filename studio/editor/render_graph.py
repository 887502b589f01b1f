"""Compile an edit into one ffmpeg command (built with ffmpeg-python) for export AND preview.

    argv = build_render(edit, assets, out="reel.mp4")                 # the whole reel, H.264/AAC
    argv = build_render(edit, assets, out="pipe:1", size=(540, 960),  # rgb24 frames from t=2 s
                        start_us=2_000_000, duration_us=1_000_000, for_preview=True)
    studio.media.ffmpeg.run(argv)  # or ffmpeg.spawn(argv, stdout=True) to stream

The graph, per clip: input seek/trim (-ss/-t on the input) -> speed (setpts) -> frame rate -> user
rotation -> one crop of exactly the part of the source that will be visible -> scale to its size on
the canvas (BT.709 matrix) -> look filters -> pad to the canvas -> exact frame count. Clips are
concatenated with their audio (atempo keeps the pitch; silence where a clip has none), overlays
(PNG images from ``overlays.rasterize``) are composited with ``enable='between(t,a,b)'``, music is
delayed to its place and mixed in. Preview composes directly at the preview size, so it shows the
same picture as the export, only smaller.

Timing: clip boundaries are rounded to whole canvas frames cumulatively, so the output length is
``round(edit.duration_us * fps)`` frames — never more than half a frame from the sum of
(trimmed length / speed).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from studio.editor import animation, transitions
from studio.editor.document import US, Clip, Edit, music_length_us
from studio.editor.looks import look_filters
from studio.editor.overlays import rasterize
from studio.errors import StudioError
from studio.media.decoder import ffmpeg_input_options
from studio.media.ref import MediaRef
from studio.visual.reframe_path import crop_expressions

AUDIO_RATE = 48_000
X264 = {"preset": "veryfast", "crf": "20"}
AUDIO_BITRATE = "160k"


class RenderError(StudioError, ValueError):
    """The edit cannot be rendered as it is (e.g. it has no clips); ``str(e)`` is for the creator."""


def output_size(edit: Edit, size: tuple[int, int] | None) -> tuple[int, int]:
    """The composed size: the canvas, or ``size`` rounded to even numbers (yuv420p needs them)."""
    if size is None:
        return edit.canvas.width, edit.canvas.height
    w, h = size
    return max(2, int(w) // 2 * 2), max(2, int(h) // 2 * 2)


def _even(v: float) -> int:
    return int(round(v / 2.0)) * 2


def _sec(us: int | float) -> str:
    return f"{us / US:.6f}"


def frame_index(t_us: int, fps: int) -> int:
    """The canvas frame a timeline time falls on (rounded to the nearest)."""
    return int(round(t_us * fps / US))


@dataclass(frozen=True)
class Segment:
    """The part of one clip that falls inside the rendered range."""
    clip: Clip
    asset: MediaRef
    source_in_us: int
    source_len_us: int
    frames: int


def plan_segments(edit: Edit, assets: Mapping[str, Any], start_us: int, end_us: int,
                  ranges: list | None = None) -> list[Segment]:
    """The clips' parts inside [start, end); ``ranges`` defaults to the pictures' (which overlap at
    transitions); pass ``transitions.audio_ranges(edit)`` for the sound, which never overlaps."""
    fps = edit.canvas.fps
    segments = []
    for clip, a, b in (edit.clip_ranges() if ranges is None else ranges):
        lo, hi = max(a, start_us), min(b, end_us)
        if hi <= lo:
            continue
        asset = assets.get(clip.asset_id)
        if asset is None:
            raise RenderError("A clip uses media that is missing from this draft.")
        frames = frame_index(hi - start_us, fps) - frame_index(lo - start_us, fps)
        if frames <= 0 and (lo > a or hi < b):
            continue    # a sliver under a frame at the range's edge (clips overlap at transitions)
        frames = max(1, frames)
        src_in = clip.source_in_us + round((lo - a) * clip.speed)
        src_len = max(1, min(round((hi - lo) * clip.speed), clip.source_out_us - src_in))
        segments.append(Segment(clip, asset, src_in, src_len, frames))
    return segments


def clip_geometry(clip: Clip, asset: MediaRef, out_w: int, out_h: int) -> dict:
    """Where a clip's picture lands on an ``out_w`` x ``out_h`` output (the preview mirrors this).

    Returns ``src_size`` (upright size after the clip's rotation), ``crop`` (w, h, x, y in source
    pixels: only the part that will be visible), ``scaled`` (its size on the output, even numbers),
    ``at`` (its top-left on the output) and ``visible`` (False when moved entirely off the canvas).
    Raises RenderError when the source size is unknown.
    """
    dw, dh = asset.width, asset.height
    if clip.rotation in (90, 270):
        dw, dh = dh, dw
    if dw <= 0 or dh <= 0:
        raise RenderError("A clip's picture size is unknown; re-import the file.")
    k = clip.reframe.crop
    rx, ry, rw, rh = (k.x * dw, k.y * dh, k.w * dw, k.h * dh) if k else (0.0, 0.0, float(dw), float(dh))
    pick = min if clip.reframe.mode == "fit" else max    # "follow" fills, its window moving over time
    s = pick(out_w / rw, out_h / rh) * clip.reframe.scale
    sw, sh = rw * s, rh * s
    px = (out_w - sw) / 2 + clip.reframe.x * out_w
    py = (out_h - sh) / 2 + clip.reframe.y * out_h
    vx0, vy0 = max(0.0, -px), max(0.0, -py)
    vx1, vy1 = min(sw, out_w - px), min(sh, out_h - py)
    visible = vx1 - vx0 >= 2 and vy1 - vy0 >= 2
    if not visible:   # moved off the canvas entirely: keep a sliver, blacked out below
        vx0, vy0, vx1, vy1 = 0.0, 0.0, 2 / s, 2 / s
    vis_w, vis_h = max(2, _even(vx1 - vx0)), max(2, _even(vy1 - vy0))
    vis_w, vis_h = min(vis_w, out_w), min(vis_h, out_h)
    return {
        "src_size": (dw, dh),
        "crop": (max(1.0, (vx1 - vx0) / s), max(1.0, (vy1 - vy0) / s), rx + vx0 / s, ry + vy0 / s),
        "scaled": (vis_w, vis_h),
        "at": (min(_even(max(px, 0.0)), out_w - vis_w), min(_even(max(py, 0.0)), out_h - vis_h)),
        "visible": visible,
    }




def _atempo_chain(speed: float) -> list[float]:
    """atempo factors (each within 0.5..2, the range every ffmpeg accepts) multiplying to ``speed``."""
    factors = []
    while speed > 2.0:
        factors.append(2.0)
        speed /= 2.0
    while speed < 0.5:
        factors.append(0.5)
        speed /= 0.5
    if abs(speed - 1.0) > 1e-6:
        factors.append(round(speed, 6))
    return factors


def _seek_margin_us(seg: Segment) -> int:
    """How far before the segment to start decoding: the frame on screen at the segment's start
    began before it, and an input seek alone would drop it."""
    if seg.asset.kind == "image":
        return 0
    frame = round(US / seg.asset.fps) if seg.asset.fps else 50_000
    return min(2 * frame, seg.source_in_us)


def segment_input(ffmpeg, seg: Segment, fps: int):
    """The ffmpeg input of one segment, for its picture and its sound alike (export, preview
    frames and preview sound): seeked ``_seek_margin_us`` before the segment, which ``_clip_video``
    and ``clip_audio`` then take off again — so every path must open its input here."""
    asset = seg.asset
    if asset.kind == "image":
        return ffmpeg.input(str(asset.path), loop=1, framerate=fps, t=_sec(seg.source_len_us))
    margin = _seek_margin_us(seg)
    # The input seek starts decoding at a keyframe mid-file: tell the decoder what it would have
    # learned from the file's first frame (old x264 4:4:4 streams decode to garbage otherwise).
    return ffmpeg.input(str(asset.path), ss=_sec(seg.source_in_us - margin), t=_sec(seg.source_len_us + margin),
                        **ffmpeg_input_options(asset.path))


def _clip_video(ffmpeg, seg: Segment, fps: int, out_w: int, out_h: int):
    clip, asset = seg.clip, seg.asset
    margin = _seek_margin_us(seg)
    inp = segment_input(ffmpeg, seg, fps)
    v = inp.video
    # Input seeking keeps timestamps relative to the seek point, so frames keep their true place
    # (a frame that began before the cut stays before it); fps(start_time=0) then picks, for every
    # canvas frame, the source frame on screen at that instant — the same one preview and export.
    v = v.filter("setpts", f"(PTS-{_sec(margin)}/TB)/{clip.speed:.6f}")
    fps_first = (asset.fps or fps) / clip.speed >= fps
    if fps_first:
        v = v.filter("fps", fps, start_time=0)
    if clip.rotation == 90:
        v = v.filter("transpose", 1)
    elif clip.rotation == 180:
        v = v.filter("hflip").filter("vflip")
    elif clip.rotation == 270:
        v = v.filter("transpose", 2)
    g = clip_geometry(clip, asset, out_w, out_h)
    cw, ch, cx, cy = g["crop"]
    dw, dh = g["src_size"]
    if clip.reframe.mode == "follow" and clip.reframe.keys:
        # the window follows the subject: x and y are evaluated on every frame from the same keys
        # the preview interpolates (``reframe_path.window_offset``)
        ex, ey = crop_expressions(clip, seg.source_in_us, cw, ch, dw, dh)
        v = v.filter("crop", f"{cw:.3f}", f"{ch:.3f}", ex, ey)
    elif (cw, ch, cx, cy) != (float(dw), float(dh), 0.0, 0.0):
        v = v.filter("crop", f"{cw:.3f}", f"{ch:.3f}", f"{cx:.3f}", f"{cy:.3f}")
    vis_w, vis_h = g["scaled"]
    v = v.filter("scale", vis_w, vis_h, out_color_matrix="bt709", out_range="tv").filter("format", "yuv420p")
    for name, opts in look_filters(clip.look.name, clip.look.brightness, clip.look.contrast,
                                   clip.look.saturation, clip.look.warmth):
        v = v.filter(name, **opts)
    if not g["visible"]:
        v = v.filter("lutyuv", y=16, u=128, v=128)
    if (vis_w, vis_h) != (out_w, out_h):
        x, y = g["at"]
        v = v.filter("pad", out_w, out_h, x, y, color="black")
    if not fps_first:
        v = v.filter("fps", fps, start_time=0)
    v = v.filter("setsar", 1)
    # Hold the last frame if the source runs short (one-frame clips), then cut to the exact count.
    v = v.filter("tpad", stop_mode="clone", stop_duration=_sec(seg.frames * US / fps + US))
    return v.filter("trim", end_frame=seg.frames).filter("setpts", "PTS-STARTPTS"), inp


def clip_audio(ffmpeg, seg: Segment, inp, fps: int):
    """The segment's sound, exactly ``seg.frames`` canvas frames long; ``inp`` is ``segment_input``'s."""
    samples = seg.frames * AUDIO_RATE // fps
    margin = _seek_margin_us(seg)
    clip = seg.clip
    if clip.muted or clip.volume == 0 or not seg.asset.has_audio or seg.asset.kind == "image":
        a = ffmpeg.input(f"anullsrc=r={AUDIO_RATE}:cl=stereo", f="lavfi").audio
        return a.filter("atrim", end_sample=samples)
    a = inp.audio.filter("atrim", start=_sec(margin)).filter("asetpts", "PTS-STARTPTS").filter(
        "aresample", AUDIO_RATE).filter(
        "aformat", sample_fmts="fltp", channel_layouts="stereo")
    for factor in _atempo_chain(clip.speed):
        a = a.filter("atempo", factor)
    if clip.volume != 1.0:
        a = a.filter("volume", f"{clip.volume:.4f}")
    return a.filter("apad").filter("atrim", end_sample=samples).filter("asetpts", "PTS-STARTPTS")


def _music(ffmpeg, edit: Edit, assets: Mapping[str, Any], start_us: int, end_us: int, *,
           with_roles: bool = False) -> list:
    out = []
    for m in edit.music:
        asset = assets.get(m.asset_id)
        if asset is None:
            raise RenderError("A music track uses a file that is missing from this draft.")
        if not asset.has_audio:
            continue
        track_len = music_length_us(m, asset.duration_us)
        skipped = max(0, start_us - m.start_us)
        place = max(m.start_us, start_us)
        length = min(track_len - skipped, end_us - place)
        if length <= 0:
            continue
        a = ffmpeg.input(str(asset.path), ss=_sec(m.offset_us + skipped), t=_sec(length)).audio
        a = a.filter("asetpts", "PTS-STARTPTS").filter("aresample", AUDIO_RATE).filter(
            "aformat", sample_fmts="fltp", channel_layouts="stereo")
        if m.volume != 1.0:
            a = a.filter("volume", f"{m.volume:.4f}")
        if m.fade_in_us and skipped < m.fade_in_us:
            a = a.filter("afade", t="in", st=0, d=_sec(m.fade_in_us - skipped))
        if m.fade_out_us:
            fade_start = max(0, track_len - m.fade_out_us - skipped)
            if fade_start < length:
                a = a.filter("afade", t="out", st=_sec(fade_start), d=_sec(min(m.fade_out_us, track_len - skipped)))
        delay = round((place - start_us) * AUDIO_RATE / US)
        if delay:
            a = a.filter("adelay", delays=f"{delay}S", all=1)
        out.append((a, m.role) if with_roles else a)
    return out


# Music under a voiceover drops by up to 18 dB while the voice speaks, and comes back in 0.4 s.
DUCKING = {"threshold": 0.02, "ratio": 8, "attack": 20, "release": 400}


def _ducked(ffmpeg, tracks: list) -> list:
    """The music and voiceover streams to mix: music compressed by the voice (sidechain) when both exist."""
    voices = [a for a, role in tracks if role == "voice"]
    songs = [a for a, role in tracks if role != "voice"]
    if not voices or not songs:
        return voices + songs

    def mixed(streams: list):  # noqa: ANN202
        return streams[0] if len(streams) == 1 else ffmpeg.filter(
            streams, "amix", inputs=len(streams), duration="longest", normalize=0, dropout_transition=0)

    split = mixed(voices).filter_multi_output("asplit")
    song = ffmpeg.filter([mixed(songs), split.stream(1)], "sidechaincompress", **DUCKING)
    return [song, split.stream(0)]


def _overlays(ffmpeg, v, edit: Edit, assets: Mapping[str, Any], out_w: int, out_h: int,
              start_us: int, end_us: int, overlay_dir: Path):
    # rasterize() draws each overlay once at canvas size and scales that image for a preview, so
    # preview and export show the same glyphs rather than text re-laid-out at another size.
    items = rasterize(edit, out_w, out_h, overlay_dir,
                      asset_path=lambda aid: assets[aid].path if aid in assets else Path("/nonexistent"))

    for item in items:
        a, b = max(item.start_us, start_us), min(item.end_us, end_us)
        if b <= a:
            continue
        source = animation.animated_source(edit, item.id)
        m = None
        if source is not None:
            m = animation.motion(source, out_w, out_h, start_us, (item.x + item.width / 2, item.y + item.height / 2))
        if m is not None and m.moves:
            # moving, growing, fading or typed in: a stream of frames shaped per frame (animation.py)
            img = animation.overlay_stream(ffmpeg, str(item.path), m, item.width, item.height, edit.canvas.fps,
                                           (a - start_us) / US, (b - start_us) / US)
            x, y = animation.overlay_xy(m)
        else:
            img = ffmpeg.input(str(item.path)).video
            x, y = item.x, item.y
            # The PNG is RGBA: convert it with the BT.709 matrix ourselves, or overlay would use BT.601.
            img = img.filter("scale", out_color_matrix="bt709", out_range="tv")
        img = img.filter("format", "yuva420p")
        v = ffmpeg.overlay(v, img, x=x, y=y, eof_action="repeat",
                           enable=f"between(t,{_sec(a - start_us)},{_sec(b - start_us - 1)})")
    return v


def build_render(edit: Edit, assets: Mapping[str, Any], *, out: str | Path, size: tuple[int, int] | None = None,
                 start_us: int = 0, duration_us: int | None = None, for_preview: bool = False,
                 overlay_dir: Path | None = None) -> list[str]:
    """The ffmpeg argv (without the binary) rendering ``edit`` from ``start_us`` for ``duration_us``.

    ``assets`` maps asset_id -> MediaRef-like object (path, width, height = display size,
    has_audio, duration_us, fps, kind). Export (``for_preview=False``): H.264 High yuv420p BT.709,
    AAC 48 kHz stereo, constant frame rate, +faststart, no metadata. Preview: video only, raw
    rgb24 frames at ``size`` to ``out`` (e.g. "pipe:1"). ``overlay_dir`` caches the rasterized
    overlays (a temp folder by default).

    Raises RenderError (nothing to render, missing media) and OverlayError (a sticker is missing).
    """
    import ffmpeg

    v, a, frames = _compose(ffmpeg, edit, assets, size=size, start_us=start_us, duration_us=duration_us,
                            for_preview=for_preview, overlay_dir=overlay_dir)
    fps = edit.canvas.fps
    if for_preview:
        v = v.filter("scale", in_color_matrix="bt709", in_range="tv").filter("format", "rgb24")
        stream = ffmpeg.output(v, str(out), f="rawvideo", pix_fmt="rgb24", **{"fps_mode": "passthrough"})
        return ["-loglevel", "error", *stream.get_args()]
    stream = ffmpeg.output(
        v, a, str(out),
        **{"c:v": "libx264", "profile:v": "high", "pix_fmt": "yuv420p", "preset": X264["preset"], "crf": X264["crf"],
           "r": fps, "fps_mode": "cfr", "colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709",
           "color_range": "tv", "c:a": "aac", "b:a": AUDIO_BITRATE, "ar": AUDIO_RATE, "ac": 2,
           "movflags": "+faststart", "map_metadata": -1, "map_chapters": -1, "fflags": "+bitexact",
           "frames:v": frames})
    return ["-loglevel", "error", "-y", *stream.get_args()]


def export_streams(edit: Edit, assets: Mapping[str, Any], *, overlay_dir: Path | None = None):  # noqa: ANN201
    """The whole reel as the export composes it, before encoding: ``(ffmpeg, video, audio, frames)``
    (ffmpeg-python module and streams), for an output of another kind (the publish ladder splits the
    video into its renditions). Same errors as ``build_render``."""
    import ffmpeg

    v, a, frames = _compose(ffmpeg, edit, assets, overlay_dir=overlay_dir)
    return ffmpeg, v, a, frames


def _compose(ffmpeg, edit: Edit, assets: Mapping[str, Any], *, size: tuple[int, int] | None = None,
             start_us: int = 0, duration_us: int | None = None, for_preview: bool = False,
             overlay_dir: Path | None = None):  # noqa: ANN001, ANN202
    if not edit.clips:
        raise RenderError("This draft has no clips to render; add a video first.")
    fps = edit.canvas.fps
    total = edit.duration_us
    start_us = max(0, int(start_us))
    end_us = total if duration_us is None else min(total, start_us + int(duration_us))
    if end_us <= start_us:
        raise RenderError("There is nothing to render at that time; the reel is shorter.")
    out_w, out_h = output_size(edit, size)

    # A range that cuts a transition in two is rendered with the whole transition and trimmed after.
    asked = (start_us, end_us)
    start_us, end_us = transitions.expand_range(edit, start_us, end_us)
    segments = plan_segments(edit, assets, start_us, end_us)
    for seg in segments:
        if seg.asset.kind not in ("video", "image"):
            raise RenderError("A clip points at a sound file; clips must be videos or pictures.")
    pictures = [_clip_video(ffmpeg, seg, fps, out_w, out_h) for seg in segments]
    v = transitions.join_video(ffmpeg, edit, [p for p, _inp in pictures], segments, start_us)
    a = None
    if not for_preview:
        sound = plan_segments(edit, assets, start_us, end_us, transitions.audio_ranges(edit))
        def key(seg: Segment) -> tuple:
            return seg.clip.id, seg.source_in_us, seg.source_len_us, seg.frames

        opened = {key(seg): inp for seg, (_p, inp) in zip(segments, pictures)}
        # without transitions the sound's segments are the pictures' and share their inputs
        parts = [clip_audio(ffmpeg, seg, opened.get(key(seg)) or segment_input(ffmpeg, seg, fps), fps) for seg in sound]
        a = ffmpeg.concat(*parts, v=0, a=1) if len(parts) > 1 else parts[0]
    overlay_dir = overlay_dir or Path(tempfile.gettempdir()) / "reel-studio-overlays"
    v = _overlays(ffmpeg, v, edit, assets, out_w, out_h, start_us, end_us, overlay_dir)
    if asked != (start_us, end_us):
        first = frame_index(asked[0] - start_us, fps)
        v = v.filter("trim", start_frame=first, end_frame=frame_index(asked[1] - start_us, fps)).filter(
            "setpts", "PTS-STARTPTS")
        if a is not None:
            a = a.filter("atrim", start_sample=first * AUDIO_RATE // fps).filter("asetpts", "PTS-STARTPTS")
        start_us, end_us = asked
    frames = frame_index(end_us - start_us, fps)
    # Tag the frames themselves: recent ffmpeg writes the stream's colour tags from frame properties.
    v = v.filter("setparams", color_primaries="bt709", color_trc="bt709", colorspace="bt709", range="tv")
    if for_preview:
        return v, None, frames
    return v, mix_audio(ffmpeg, a, edit, assets, start_us, end_us, frames), frames


def mix_audio(ffmpeg, a, edit: Edit, assets: Mapping[str, Any], start_us: int, end_us: int, frames: int):
    fps = edit.canvas.fps
    if edit.audio.original_volume != 1.0:
        a = a.filter("volume", f"{edit.audio.original_volume:.4f}")
    music = _ducked(ffmpeg, _music(ffmpeg, edit, assets, start_us, end_us, with_roles=True))
    if music:
        # normalize=0: amix would otherwise divide every input's level by the number of inputs.
        a = ffmpeg.filter([a, *music], "amix", inputs=len(music) + 1, duration="first", normalize=0,
                          dropout_transition=0)
    if edit.audio.normalize_loudness:
        a = a.filter("loudnorm", I=f"{edit.audio.loudness_target:.1f}", TP="-1.5", LRA="11").filter(
            "aresample", AUDIO_RATE)
    return a.filter("atrim", end_sample=frames * AUDIO_RATE // fps)


def total_frames(edit: Edit, start_us: int = 0, duration_us: int | None = None) -> int:
    end = edit.duration_us if duration_us is None else min(edit.duration_us, start_us + duration_us)
    return frame_index(max(0, end - start_us), edit.canvas.fps)

