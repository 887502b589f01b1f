"""The in-process decoder shows the right frame at t, upright, and seeks only when it must."""

from __future__ import annotations

import random

import numpy as np
import pytest
from editor_ui_helpers import as_image, ffmpeg_frame, make_video, psnr

from studio.media.decoder import DecoderPool, VideoDecoder
from studio.media.probe import MediaError

US = 1_000_000


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # GOP 15 with B-frames: random seeks land between keyframes and frames arrive out of order.
    return make_video(tmp_path_factory.mktemp("dec") / "src.mp4", seconds=3, fps=30, gop=15, bframes=2)


def test_frame_at_t_matches_ffmpegs_frame_at_t(clip):
    rnd = random.Random(5)
    indices = [0, 1, 14, 15, 16, 44, 89] + rnd.sample(range(90), 8)
    with VideoDecoder(clip) as dec:
        for n in indices:  # random order: backward and forward seeks both happen
            t = round((n + 0.5) * US / 30)  # mid-frame: the frame on screen at t is frame n
            got = dec.frame_at(t)
            want = as_image(ffmpeg_frame(clip, n), 320, 240)
            assert psnr(got, want) >= 45, f"frame {n} at t={t}"
            assert dec.frame_time_at(t) == round(n * US / 30)


def test_nearby_forward_seeks_keep_decoding_instead_of_seeking(clip):
    with VideoDecoder(clip) as dec:
        dec.frame_at(0)
        seeks = dec.seeks
        for n in range(1, 30):  # playback / frame stepping
            dec.frame_at(round((n + 0.5) * US / 30))
        assert dec.seeks == seeks
        dec.frame_at(round(0.2 * US))  # backwards needs a keyframe seek
        assert dec.seeks == seeks + 1


def test_scaled_frames_and_the_end_of_the_file(clip):
    with VideoDecoder(clip) as dec:
        small = dec.frame_at(US, size=(160, 120))
        assert small.shape == (120, 160, 3)
        last = dec.frame_at(10 * US)  # past the end: the last frame stays on screen
        assert psnr(last, as_image(ffmpeg_frame(clip, 89), 320, 240)) >= 45


def test_rotated_source_is_upright(shared_media):
    path = shared_media / "video_rotation_90.mp4"
    with VideoDecoder(path) as dec:
        assert dec.rotation == 90
        assert dec.display_size == (60, 100)  # portrait
        got = dec.frame_at(0)
    assert got.shape == (100, 60, 3)
    # ffmpeg applies the display matrix itself: same upright picture
    want = as_image(ffmpeg_frame(path, 0), 60, 100)
    assert psnr(got, want) >= 40


def test_real_footage_mid_frame_times(shared_media):
    path = shared_media / "cockatoo_yuv420.mp4"   # 20 fps camera footage
    with VideoDecoder(path) as dec:
        w, h = dec.display_size
        for n in (3, 77, 150, 40):
            got = dec.frame_at(round((n + 0.5) * US / 20))
            assert psnr(got, as_image(ffmpeg_frame(path, n), w, h)) >= 40, n


def test_pool_reuses_one_decoder_per_file(clip):
    pool = DecoderPool(max_open=2)
    try:
        a = pool.frame_at(clip, 0, size=(64, 48))
        b = pool.frame_at(clip, round(1.5 * US / 30), size=(64, 48))
        assert a.shape == b.shape == (48, 64, 3)
        assert len(pool._decoders) == 1
        assert not np.array_equal(a, b)
    finally:
        pool.close()


@pytest.mark.parametrize("name,reason", [("chunk_out_of_range.mp4", "unreadable"), ("bipbop_audioinit.mp4", None)])
def test_broken_files_raise_media_error(shared_media, name, reason):
    with pytest.raises(MediaError) as err:
        with VideoDecoder(shared_media / name) as dec:
            dec.frame_at(0)
    assert str(err.value)
    if reason:
        assert err.value.reason == reason


def test_missing_file(tmp_path):
    with pytest.raises(MediaError) as err:
        VideoDecoder(tmp_path / "gone.mp4")
    assert err.value.reason == "missing"


def test_forward_seeks_jump_only_when_a_keyframe_is_in_between(clip, tmp_path):
    with VideoDecoder(clip) as dec:        # a keyframe every 15 frames
        dec.frame_at(round(2.5 * US / 30))
        seeks = dec.seeks
        got = dec.frame_at(round(80.5 * US / 30))      # keyframes at 15..75 lie in between: jump
        assert dec.seeks == seeks + 1
        assert psnr(got, as_image(ffmpeg_frame(clip, 80), 320, 240)) >= 45
    long_gop = make_video(tmp_path / "long_gop.mp4", seconds=3, fps=30, gop=90, bframes=0)
    with VideoDecoder(long_gop) as dec:    # one keyframe: a seek would land before here anyway
        dec.frame_at(round(3.5 * US / 30))
        seeks = dec.seeks
        got = dec.frame_at(round(75.5 * US / 30))
        assert dec.seeks == seeks
        assert psnr(got, as_image(ffmpeg_frame(long_gop, 75), 320, 240)) >= 45


def test_a_seek_converts_only_the_frame_shown(clip):
    with VideoDecoder(clip) as dec:
        dec.frame_at(0, size=(160, 120))
        for n, conversions in ((40, 1), (12, 1), (77, 1), (77, 0), (30, 1)):
            before, decoded = dec.converted, dec.decoded
            dec.frame_at(round((n + 0.5) * US / 30), size=(160, 120))
            # the frames decoded on the way from the keyframe are never turned into RGB
            assert dec.converted - before == conversions, n
            assert conversions == 0 or dec.decoded > decoded


def test_rolling_forward_skips_the_pictures_nobody_sees_and_stays_exact(tmp_path):
    # one keyframe, B-frames nothing refers to: a jump ahead within the GOP keeps decoding
    # without a seek, and needs only the reference frames before the target
    path = make_video(tmp_path / "long_gop_b.mp4", seconds=3, fps=30, gop=90, bframes=3)
    with VideoDecoder(path) as dec:
        dec.frame_at(round(2.5 * US / 30))
        seeks, decoded = dec.seeks, dec.decoded
        got = dec.frame_at(round(70.5 * US / 30))
        assert dec.seeks == seeks
        assert dec.decoded - decoded < 50   # 68 frames passed, far fewer decoded
        assert psnr(got, as_image(ffmpeg_frame(path, 70), 320, 240)) >= 45
        for n in range(71, 76):   # stepping on from there still shows every frame
            got = dec.frame_at(round((n + 0.5) * US / 30))
            assert psnr(got, as_image(ffmpeg_frame(path, n), 320, 240)) >= 45, n
