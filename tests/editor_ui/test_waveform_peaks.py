"""Music-lane waveforms: peaks follow the sound, silent files say so, results are cached."""

from __future__ import annotations

import pytest

from studio.media import ffmpeg, waveform
from studio.media.probe import MediaError


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    # 1 s of silence, then 1 s of a loud tone: the envelope must rise at 1 s.
    path = tmp_path_factory.mktemp("wave") / "song.m4a"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo:d=1",
                "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100:duration=1",
                "-filter_complex", "[0][1]concat=n=2:v=0:a=1,volume=0.8", "-c:a", "aac", str(path)], timeout=60)
    return path


def test_peaks_follow_the_sound(song):
    peaks = waveform.peaks(song, per_second=50)
    assert 95 <= len(peaks) <= 106
    assert peaks[:45].max() < 0.02          # the silent first second
    assert peaks[55:95].min() > 0.05         # the tone (sine at 1/8 full scale)
    assert peaks[55:95].min() > 3 * peaks[:45].max()
    assert peaks.max() <= 1.0


def test_peaks_are_cached(song, tmp_path):
    first = waveform.peaks(song, per_second=25, cache_dir=tmp_path)
    cached = list((tmp_path / "waveforms").glob("*.npy"))
    assert len(cached) == 1
    again = waveform.peaks(song, per_second=25, cache_dir=tmp_path)
    assert (first == again).all()


def test_a_file_without_sound(shared_media):
    with pytest.raises(MediaError) as err:
        waveform.peaks(shared_media / "cockatoo_yuv420.mp4")
    assert err.value.reason == "no_audio"
    assert "no sound" in str(err.value)


def test_real_file_with_sound(shared_media):
    peaks = waveform.peaks(shared_media / "realshort.mp4", per_second=50)
    assert 55 <= len(peaks) <= 62 and peaks.max() > 0
