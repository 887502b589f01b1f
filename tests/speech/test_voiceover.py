"""Voiceover: narration from the microphone (mocked: this machine has none — it plays festival's
voice) lands on the timeline as a voice track, and the music ducks under it in the export."""

from __future__ import annotations

import threading
import wave

import numpy as np
import pytest

from studio.capture.audio import AudioInput
from studio.editor.document import Edit, add_music, trim_clip
from studio.editor.export import render_to_file
from studio.media import ffmpeg
from studio.tasks import SynchronousPool, use_pool

US = 1_000_000


class FakeMicrophone(AudioInput):
    """Delivers a WAV file's samples in 20 ms chunks from its own thread, like the real microphone."""

    def __init__(self, wav_path):  # noqa: ANN001
        with wave.open(str(wav_path)) as w:
            self.sample_rate, self.channels = w.getframerate(), w.getnchannels()
            self.pcm = w.readframes(w.getnframes())
        self._thread = None

    def start(self, sink) -> None:  # noqa: ANN001
        step = self.sample_rate // 50 * 2 * self.channels

        def run() -> None:
            for i in range(0, len(self.pcm), step):
                sink(self.pcm[i:i + step], 0.0)
        self._thread = threading.Thread(target=run)
        self._thread.start()

    def stop(self) -> None:
        self._thread.join()


class DeadMicrophone(AudioInput):
    def start(self, sink) -> None:  # noqa: ANN001
        raise RuntimeError("no audio device")

    def stop(self) -> None:
        pass


def _song_db(path, a_s: float, b_s: float) -> float:
    """The level of the 5 kHz song alone (a narrow band around it; a voice has little energy there)."""
    raw = ffmpeg.run(["-v", "error", "-ss", f"{a_s}", "-t", f"{b_s - a_s}", "-i", str(path), "-vn", "-ac", "1",
                      "-af", "bandpass=f=5000:width_type=h:w=300", "-ar", "16000", "-f", "s16le", "pipe:1"],
                     timeout=60).stdout
    x = np.frombuffer(raw, "<i2").astype(np.float64) / 32768
    return float(20 * np.log10(max(np.sqrt(np.mean(x * x)), 1e-9)))


@pytest.fixture
def editor(studio, shared_media, qapp):
    from studio.editor.session import EditorSession

    draft = studio.drafts.import_files([shared_media / "cockatoo_yuv420.mp4"])
    with use_pool(SynchronousPool()):
        session = EditorSession(studio)
        session.open(draft.id)
        session.document.do(__import__("studio.editor.commands", fromlist=["UpdateClip"]).UpdateClip,
                            session.document.edit.clips[0].id, muted=True)
        yield session
        session.close()


def test_voiceover_is_recorded_onto_the_timeline_and_music_ducks_under_it(editor, studio, talking_head,
                                                                          tmp_path) -> None:
    voice_wav = talking_head.path.parent / "s0.wav"          # festival: "welcome back to my channel …" (4 s)
    added = []
    editor.voiceover_added.connect(added.append)
    with use_pool(SynchronousPool()):
        assert editor.start_voiceover(1 * US, FakeMicrophone(voice_wav))
        assert editor.recording_voiceover
        editor.stop_voiceover()
    (track_id,) = added
    edit = editor.document.edit
    voice = next(m for m in edit.music if m.id == track_id)
    assert voice.role == "voice" and voice.start_us == US
    assert editor.assets[voice.asset_id].kind == "audio" and not list(studio.layout.takes.glob("voiceover-*"))
    editor.document.stack.undo()
    assert not editor.document.edit.music, "the voiceover is one undo step"
    editor.document.stack.redo()

    # a loud steady tone as the song, under the whole reel
    song = tmp_path / "song.wav"
    ffmpeg.run(["-v", "error", "-f", "lavfi", "-i", "sine=frequency=5000:duration=6:sample_rate=48000",
                "-af", "volume=4", str(song)], timeout=60)
    draft = studio.drafts.get(editor.draft_id)
    song_asset = studio.drafts.add_asset(draft.id, song, kind="audio")
    edit = Edit.from_dict(editor.document.edit.to_dict())
    edit = trim_clip(edit, edit.clips[0].id, out_us=4 * US)
    edit, _ = add_music(edit, song_asset.id, 0)
    assets = studio.drafts.media_refs(studio.drafts.get(draft.id))
    ducked = render_to_file(edit, assets, tmp_path / "ducked.mp4")
    plain = Edit.from_dict(edit.to_dict())
    next(m for m in plain.music if m.role == "voice").role = "music"
    undecked = render_to_file(plain, assets, tmp_path / "plain.mp4")
    # while the voice speaks the song is far quieter; before the voice it is untouched
    assert _song_db(ducked, 1.5, 3.5) < _song_db(undecked, 1.5, 3.5) - 6
    assert abs(_song_db(ducked, 0.1, 0.9) - _song_db(undecked, 0.1, 0.9)) < 1.0


def test_a_missing_microphone_is_a_sentence(editor) -> None:
    failed = []
    editor.voiceover_failed.connect(failed.append)
    assert not editor.start_voiceover(0, DeadMicrophone())
    assert "microphone could not be started" in str(failed[0]) and not editor.recording_voiceover
