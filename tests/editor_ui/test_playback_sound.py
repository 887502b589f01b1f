"""Sound for playback: the preview's audio mix is the export's, and without a device we stay silent."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from editor_ui_helpers import make_video
from sound_server import SINK, pulse_server

from studio.editor.document import Edit, add_music, update_clip
from studio.media.sound import AudioFeed, PcmSource, audio_output_available
from studio.editor.preview import audio_argv
from studio.media.ref import MediaRef
from studio.media import ffmpeg

US = 1_000_000


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sound")
    video = make_video(folder / "clip.mp4", seconds=3, audio=False)
    song = folder / "song.m4a"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:duration=5",
                "-af", "volume=4", "-c:a", "aac", str(song)], timeout=60)
    return {"v": MediaRef("v", video, "video", 0, 320, 240, 30.0, 3 * US, False),
            "m": MediaRef("m", song, "audio", 0, 0, 0, 0.0, 5 * US, True)}


def _pcm(argv) -> np.ndarray:
    out = subprocess.run([ffmpeg.ffmpeg_exe(), *argv], capture_output=True, timeout=60, check=True).stdout
    return np.frombuffer(out, "<i2").reshape(-1, 2).astype(np.float64)


def _energy(pcm, a_s, b_s) -> float:
    return float(np.abs(pcm[int(a_s * 48000):int(b_s * 48000)]).mean())


def test_sound_from_the_playhead_has_the_music_where_it_is_placed(media):
    edit = Edit.from_dict({"schema_version": 2, "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "v", "source_in_us": 0, "source_out_us": 3 * US}]})
    edit, _ = add_music(edit, "m", start_us=2 * US)
    pcm = _pcm(audio_argv(edit, media, start_us=US))          # playing from 1 s
    assert len(pcm) == pytest.approx(2 * 48000, abs=48000 // 30)   # to the end of the reel
    assert _energy(pcm, 0.0, 0.9) < 5                          # the clip is silent, music not yet
    assert _energy(pcm, 1.1, 1.9) > 500                        # music from 2 s on the timeline
    # muting via the music volume follows the edit
    edit = Edit.from_dict({**edit.to_dict(), "music": [{**edit.music[0].to_dict(), "volume": 0.0}]})
    assert _energy(_pcm(audio_argv(edit, media, start_us=US)), 1.1, 1.9) < 5


def test_speed_changes_the_length_of_the_sound(media):
    edit = Edit.from_dict({"schema_version": 2, "canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "v", "source_in_us": 0, "source_out_us": 3 * US}]})
    edit = update_clip(edit, "c", speed=2.0)
    pcm = _pcm(audio_argv(edit, media, start_us=0))
    assert len(pcm) == pytest.approx(1.5 * 48000, abs=48000 // 30)


def test_no_output_device_means_silent_playback(qapp):
    feed = AudioFeed()
    assert feed.available == audio_output_available()
    if not feed.available:   # this machine, CI
        assert feed.start(["-f", "lavfi", "-i", "anullsrc", "-f", "s16le", "pipe:1"]) is False
    feed.stop()


def test_pcm_source_hands_out_whole_frames_and_silence_on_underrun(qapp):
    src = PcmSource()
    src.push(b"\1\2\3\4\5\6\7\x08\x09")
    assert src.readData(6) == b"\1\2\3\4"       # whole 4-byte stereo frames
    assert src.bytesAvailable() == 5
    assert src.readData(1000) == b"\5\6\7\x08"    # the odd last byte waits for the rest of its frame
    src.push(b"\x0a\x0b\x0c")
    assert src.readData(1000) == b"\x09\x0a\x0b\x0c"
    assert src.readData(400) == b"\0" * 400      # underrun: silence, the clock keeps running
    src.finished = True
    assert src.readData(400) == b""


_PLAY = r"""
import sys
from PySide6.QtCore import QCoreApplication, QTimer
from studio.media.sound import AudioFeed, pcm_argv
app = QCoreApplication([])
feed = AudioFeed()
assert feed.available, "no sound output found"
assert feed.start(pcm_argv(sys.argv[1]))
QTimer.singleShot(int(float(sys.argv[2]) * 1000), app.quit)
app.exec()
feed.stop()
"""


def test_playback_reaches_the_speakers_of_a_real_sound_server(media, tmp_path):
    """AudioFeed through Qt Multimedia's own PulseAudio code (the bundle ships no Qt media backend):
    what a recorder on the speakers' monitor hears is the song."""
    with pulse_server(tmp_path / "pulse") as server:
        env = {**os.environ, "PULSE_SERVER": server}
        heard = tmp_path / "heard.wav"
        listen = subprocess.Popen([ffmpeg.ffmpeg_exe(), "-v", "error", "-nostdin", "-f", "pulse", "-i", f"{SINK}.monitor",
                                   "-t", "4", "-ac", "1", "-ar", "48000", "-y", str(heard)], env=env,
                                  stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        play = subprocess.run([sys.executable, "-c", _PLAY, str(media["m"].path), "3"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert play.returncode == 0, play.stderr
        _, err = listen.communicate(timeout=30)
        assert listen.returncode == 0, err
    pcm = _pcm(["-v", "error", "-i", str(heard), "-f", "s16le", "-ac", "2", "-ar", "48000", "pipe:1"])[:, 0]
    assert len(pcm) >= 3 * 48000
    spectrum = np.abs(np.fft.rfft(pcm))
    peak_hz = float(np.argmax(spectrum[1:]) + 1) * 48000 / len(pcm)
    assert peak_hz == pytest.approx(330, abs=2)   # the song's sine, not noise or silence
    assert np.abs(pcm).mean() > 1000
