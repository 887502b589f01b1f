"""Render correctness with the real ffmpeg on real media: what the creator gets is what they edited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from editor_render_helpers import (audio, frames, make_tagged_video, make_tone, psnr, render_asset,
                                   top_level_boxes)

from studio.editor import document as doc
from studio.editor.document import Canvas, Edit
from studio.editor.render_graph import RenderError, build_render
from studio.media import ffmpeg, probe


@pytest.fixture(autouse=True)
def _gui(qapp):  # noqa: ANN001 - text overlays are drawn with QtGui; pytest-qt's QApplication serves
    yield


def small(edit: Edit, w: int = 180, h: int = 320, fps: int = 30) -> Edit:
    edit.canvas = Canvas(preset="custom", width=w, height=h, fps=fps)
    return edit


def render(edit: Edit, assets: dict, out: Path, tmp_path: Path) -> Path:
    ffmpeg.run(build_render(edit, assets, out=out, overlay_dir=tmp_path / "overlays"), timeout=120)
    return out


def header(path: Path) -> str:
    return ffmpeg.run(["-i", str(path)], check=False).stderr.decode("utf-8", "replace")


def test_export_is_1080x1920_h264_high_yuv420p_aac48k_faststart(shared_media: Path, tmp_path: Path) -> None:
    # cockatoo.mp4 is yuv444p H.264 High 4:4:4 with 16 kHz mono MP3 sound.
    assets = {"a": render_asset(shared_media / "cockatoo.mp4")}
    e, c = doc.add_clip(doc.new_edit(), "a", 14_000_000)
    e = doc.trim_clip(e, c, in_us=3_000_000, out_us=4_000_000)
    e = doc.update_clip(e, c, look={"name": "warm", "contrast": 0.2})
    e, _ = doc.add_text(e, "Hello", 0, 500_000, background="#00000099")
    e, _ = doc.add_sticker(e, "builtin:star", 300_000, 900_000)
    out = render(e, assets, tmp_path / "out.mp4", tmp_path)
    info = probe.probe(out)
    assert (info.video.codec, info.video.profile, info.video.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.video.width, info.video.height, info.video.fps, info.video.rotation) == (1080, 1920, 30.0, 0)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48_000, 2)
    assert abs(info.duration_us - 1_000_000) <= 34_000
    assert "bt709" in header(out)
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_duration_is_the_sum_of_trimmed_lengths_over_speed(shared_media: Path, tmp_path: Path) -> None:
    assets = {"short": render_asset(shared_media / "realshort.mp4"),        # 30.02 fps
              "bird": render_asset(shared_media / "cockatoo.mp4"),
              "one": render_asset(shared_media / "minimal.mp4")}           # a single frame
    e = small(doc.new_edit())
    e, a = doc.add_clip(e, "short", 1_200_000)
    e = doc.trim_clip(e, a, in_us=200_000, out_us=1_100_000)
    e = doc.update_clip(e, a, speed=2.0)
    e, b = doc.add_clip(e, "bird", 14_000_000)
    e = doc.trim_clip(e, b, in_us=1_000_000, out_us=1_600_000)
    e = doc.update_clip(e, b, speed=0.5)
    e, _ = doc.add_clip(e, "one", 40_000)
    expected_us = 900_000 / 2 + 600_000 / 0.5 + 40_000
    out = render(e, assets, tmp_path / "out.mp4", tmp_path)
    n = len(frames(out, 16, 16))
    assert abs(n - expected_us * 30 / 1e6) <= 1, n
    samples = audio(out)
    assert abs(len(samples) / 8000 - expected_us / 1e6) <= 1 / 30 + 0.025


def test_text_overlay_is_present_only_inside_its_time_range(shared_media: Path, tmp_path: Path) -> None:
    assets = {"w": render_asset(shared_media / "white.mp4")}
    e = small(doc.new_edit())
    e, _ = doc.add_clip(e, "w", 1_500_000)
    e, _ = doc.add_text(e, "RED", 500_000, 1_000_000, color="#FF0000", size=0.12, background="#000000FF")
    got = frames(render(e, assets, tmp_path / "out.mp4", tmp_path), 180, 320)
    assert len(got) == 45
    centre = got[:, 140:180, 60:120].astype(int)
    dark = (centre.sum(axis=3) < 200).mean(axis=(1, 2))     # the black box behind the text
    for i, share in enumerate(dark):
        t = i / 30
        if 0.5 + 0.04 < t < 1.0 - 0.04:
            assert share > 0.3, f"text missing at {t:.2f}s"
        elif t < 0.5 - 0.04 or t > 1.0 + 0.04:
            assert share == 0, f"text visible at {t:.2f}s, outside its range"


def test_music_starts_where_it_was_placed(shared_media: Path, tmp_path: Path) -> None:
    assets = {"v": render_asset(shared_media / "cockatoo_yuv420.mp4"),     # no audio track at all
              "song": render_asset(make_tone(tmp_path / "tone.m4a"))}
    e = small(doc.new_edit())
    e, c = doc.add_clip(e, "v", 14_000_000)
    e = doc.trim_clip(e, c, in_us=0, out_us=2_000_000)
    e, _ = doc.add_music(e, "song", 800_000, offset_us=1_000_000)
    out = render(e, assets, tmp_path / "out.mp4", tmp_path)
    info = probe.probe(out)
    assert info.audio is not None and info.audio.sample_rate == 48_000
    pcm = audio(out)
    window = 80   # 10 ms at 8 kHz
    rms = np.sqrt(np.mean(pcm[: len(pcm) // window * window].reshape(-1, window) ** 2, axis=1))
    loud = np.nonzero(rms > 0.05)[0]
    assert len(loud), "no music in the export"
    onset = loud[0] * window / 8000
    assert abs(onset - 0.8) <= 0.04, onset
    assert rms[: int(0.75 * 100)].max() < 0.01, "sound before the music was placed"
    assert rms[int(0.9 * 100): int(1.9 * 100)].min() > 0.05, "music should play to the end"


def test_location_and_device_metadata_are_stripped(tmp_path: Path) -> None:
    src = make_tagged_video(tmp_path / "phone.mp4")
    assert "37.7749" in header(src)
    assets = {"p": render_asset(src)}
    e = small(doc.new_edit())
    e, _ = doc.add_clip(e, "p", 1_000_000)
    out = render(e, assets, tmp_path / "out.mp4", tmp_path)
    text = header(out).replace(str(out), "OUT")    # the test's own folder name says "location"
    data = out.read_bytes()
    for secret in ("37.7749", "PhoneX", "Acme", "secret-gps", "2024-05-01", "location", "creation_time"):
        assert secret not in text and secret.encode() not in data, secret
    assert set(probe.probe(out).tags) <= {"major_brand", "minor_version", "compatible_brands"}


def test_rotated_phone_video_is_upright(shared_media: Path, tmp_path: Path) -> None:
    src = shared_media / "video_rotation_90.mp4"     # 100x60 coded, display matrix -90°: portrait 60x100
    asset = render_asset(src)
    assert (asset.width, asset.height) == (60, 100)
    e = small(doc.new_edit(), 120, 200)
    e, c = doc.add_clip(e, "r", asset.duration_us)
    e = doc.update_clip(e, c, reframe={"mode": "fit"})
    got = frames(render(e, {"r": asset}, tmp_path / "out.mp4", tmp_path), 120, 200)[0]
    # ffmpeg's own autorotation of the source is the reference for "upright".
    ref = frames(src, 120, 200)[0]
    assert psnr(got, ref) > 25


def test_preview_pipe_matches_the_export(shared_media: Path, tmp_path: Path) -> None:
    assets = {"a": render_asset(shared_media / "cockatoo.mp4")}
    e, c = doc.add_clip(doc.new_edit(), "a", 14_000_000)
    e = doc.trim_clip(e, c, in_us=2_000_000, out_us=3_500_000)
    e = doc.update_clip(e, c, look={"name": "vivid", "warmth": 0.4})
    e, _ = doc.add_text(e, "Preview = export", 200_000, 1_200_000, background="#202020C0", rotation=-5)
    e, _ = doc.add_sticker(e, "builtin:heart", 0, 1_500_000, x=0.25, y=0.2, rotation=20, opacity=0.8)
    out = render(e, assets, tmp_path / "out.mp4", tmp_path)
    exported = frames(out, 270, 480)
    for t_us in (0, 400_000, 1_000_000, 1_433_333):
        argv = build_render(e, assets, out="pipe:1", size=(270, 480), start_us=t_us, duration_us=33_333,
                            for_preview=True, overlay_dir=tmp_path / "overlays")
        raw = ffmpeg.run(argv, timeout=60).stdout
        shown = np.frombuffer(raw, np.uint8).reshape(-1, 480, 270, 3)[0]
        index = round(t_us * 30 / 1e6)
        assert psnr(shown, exported[index]) >= 30, t_us


def test_nothing_to_render_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match="no clips"):
        build_render(doc.new_edit(), {}, out="x.mp4")
    e, _ = doc.add_clip(doc.new_edit(), "gone", 1_000_000)
    with pytest.raises(RenderError, match="missing"):
        build_render(e, {}, out="x.mp4")


def _integrated_lufs(path: Path) -> float:
    import re

    text = ffmpeg.run(["-i", str(path), "-af", "ebur128", "-f", "null", "-"], timeout=60).stderr.decode()
    return float(re.findall(r"I:\s+(-?\d+(?:\.\d+)?) LUFS", text)[-1])


def test_loudness_normalization_brings_quiet_sound_to_the_target(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.mp4"
    ffmpeg.run(["-y", "-f", "lavfi", "-i", "color=c=gray:size=160x90:rate=30:duration=4", "-f", "lavfi",
                "-i", "sine=frequency=500:duration=4,volume=0.05", "-c:v", "libx264", "-c:a", "aac", "-shortest",
                str(quiet)], timeout=60)
    assets = {"q": render_asset(quiet)}
    e = small(doc.new_edit())
    e, _ = doc.add_clip(e, "q", assets["q"].duration_us)
    plain = render(e, assets, tmp_path / "plain.mp4", tmp_path)
    e = doc.update_audio(e, normalize_loudness=True, loudness_target=-16.0)
    loud = render(e, assets, tmp_path / "loud.mp4", tmp_path)
    assert _integrated_lufs(plain) < -30
    assert abs(_integrated_lufs(loud) - -16.0) <= 2.5
    assert probe.probe(loud).audio.sample_rate == 48_000
