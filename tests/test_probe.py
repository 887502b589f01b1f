"""Probing the real-world files in ../shared/media."""

from __future__ import annotations

import pytest

from studio.media.probe import MediaError, probe, require_video


@pytest.mark.parametrize("name,reason", [
    ("chunk_out_of_range.mp4", "unreadable"),
    ("short-cenc.mp4", "encrypted"),
    ("bipbop_audioinit.mp4", "no_video"),
])
def test_bad_files_are_refused_with_a_reason(shared_media, name, reason):
    with pytest.raises(MediaError) as e:
        require_video(shared_media / name)
    assert e.value.reason == reason
    assert name in str(e.value)


def test_not_media_and_missing(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("shopping list")
    with pytest.raises(MediaError) as e:
        probe(txt)
    assert e.value.reason in ("not_media", "unreadable")
    with pytest.raises(MediaError) as e:
        probe(tmp_path / "gone.mp4")
    assert e.value.reason == "missing"


def test_valid_files(shared_media):
    c = require_video(shared_media / "cockatoo.mp4")
    assert (c.video.width, c.video.height, c.video.fps, c.video.pix_fmt) == (1280, 720, 20.0, "yuv444p")
    assert c.audio.codec == "mp3" and c.audio.sample_rate == 16000 and c.audio.channels == 1
    assert c.duration_us == 14_000_000
    r = require_video(shared_media / "realshort.mp4")
    assert r.video.fps == pytest.approx(30.02)
    rot = require_video(shared_media / "video_rotation_90.mp4")
    assert rot.video.rotation == 90 and rot.video.display_size == (60, 100)
    assert require_video(shared_media / "cockatoo_yuv420.mp4").audio is None
