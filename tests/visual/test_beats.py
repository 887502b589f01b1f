"""Beat cuts: a creator picks a song and "Cut to the beat" trims the takes so that every cut lands on
a beat — checked on the exported video, frame by frame."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest
from visual_helpers import decode_frames, solid_take

from studio.editor.document import US, Canvas, Edit, EditError
from studio.editor.export import export_draft
from studio.visual.beats import RATE, analyse, analyse_file, cut_to_the_beat, music_markers

FPS = 30


def click_track(seconds: float = 12.0, bpm: float = 120.0, first: float = 0.25, *, rate: int = RATE,
                offbeat_hats: bool = False) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = 0.01 * rng.standard_normal(int(seconds * rate))
    t = np.arange(int(0.03 * rate)) / rate
    click = 0.8 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 200)
    hat = 0.25 * rng.standard_normal(len(t)) * np.exp(-t * 400)
    period = 60.0 / bpm
    k = 0
    while first + k * period < seconds - 0.05:
        i = int((first + k * period) * rate)
        x[i:i + len(t)] += click
        j = int((first + (k + 0.5) * period) * rate)
        if offbeat_hats and j + len(t) < len(x):
            x[j:j + len(t)] += hat
        k += 1
    return x.astype(np.float32)


def write_wav(path, samples: np.ndarray, rate: int = 44_100):  # noqa: ANN001
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.parametrize("bpm", [120.0, 95.0])
def test_the_detector_finds_the_clicks_of_a_click_track(bpm):
    found = analyse(click_track(bpm=bpm, offbeat_hats=True))
    assert found.tempo_bpm == pytest.approx(bpm, abs=1.0)
    truth = 0.25 + np.arange(0, 12, 60 / bpm)
    truth = truth[truth < 11.95] * US
    beats = np.array([b for b in found.beats_us if b < 11.8 * US])
    assert len(beats) >= len(truth) - 2
    assert np.abs(beats[:, None] - truth[None, :]).min(axis=1).max() <= US / FPS / 2   # on the clicks
    assert len(found.onsets_us) >= len(beats)        # the off-beat hats are onsets, not beats


def test_cut_to_the_beat_through_the_cli_lands_every_cut_on_a_beat(cli, studio, tmp_path, qapp):
    colours = ["red", "0x2040ff", "0x20ff40"]
    takes = [solid_take(tmp_path / f"take{i}.mp4", c, seconds=2.3, size="180x320") for i, c in enumerate(colours)]
    draft = studio.drafts.import_files(takes)
    edit = Edit.from_dict(draft.edit)
    edit.canvas = Canvas(preset="custom", width=180, height=320, fps=FPS)   # 9:16, quick to export
    studio.drafts.update_edit(draft.id, edit.to_dict())
    song = write_wav(tmp_path / "click.wav", click_track(rate=44_100), 44_100)

    r = cli("edit", draft.id, "beat-cuts", "--music", str(song), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["tempo_bpm"] == pytest.approx(120, abs=1)
    edit = Edit.from_dict(studio.drafts.get(draft.id).edit)
    assert len(edit.music) == 1 and edit.music[0].beats_us          # the markers are saved with the track
    beats = np.array(music_markers(edit.music[0], 12 * US, edit.duration_us)[0])

    frames = decode_frames(export_draft(studio, draft.id, tmp_path / "reel.mp4"), (18, 32))
    assert abs(len(frames) - round(studio.drafts.get(draft.id).duration_us * FPS / US)) <= 1
    centre = frames[:, 16, 9].astype(int)
    cuts = [n for n in range(1, len(centre)) if np.abs(centre[n] - centre[n - 1]).max() > 60]
    assert len(cuts) == 2, cuts
    for n in [*cuts, len(frames)]:                    # every cut, and the reel's end, on a beat
        assert np.abs(beats - n * US / FPS).min() <= US / FPS, (n, beats[:16])
    # each take keeps a whole number of beats: 2.25 s, then 2 s, then 2 s
    assert all(abs(c - e * FPS) <= 1 for c, e in zip(cuts, (2.25, 4.25)))

    r = cli("edit", draft.id, "beat-cuts", "--music", report["asset_id"], "--json")   # the draft's own music
    assert r.returncode == 0, r.stderr


def test_cut_to_the_beat_refuses_with_a_sentence(cli, studio, shared_media, tmp_path):
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    r = cli("edit", draft.id, "beat-cuts", "--music", str(tmp_path / "nothing.mp3"))
    assert r.returncode == 1 and "neither a music file" in r.stderr and "Traceback" not in r.stderr
    silence = write_wav(tmp_path / "silence.wav", np.zeros(3 * 44_100, np.float32))
    r = cli("edit", draft.id, "beat-cuts", "--music", str(silence))
    assert r.returncode == 1 and "no beat that can be heard" in r.stderr
    after = studio.drafts.get(draft.id)
    assert len(after.assets) == len(draft.assets) and after.revision == draft.revision   # nothing was added
    edit = Edit.from_dict({"canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
                           "clips": [{"id": "c", "asset_id": "a", "source_in_us": 0, "source_out_us": 200_000}],
                           "music": [{"id": "m", "asset_id": "s"}]})
    from studio.visual.beats import BeatError

    with pytest.raises(BeatError, match="shorter than a beat"):
        cut_to_the_beat(edit, "m", [0, 500_000, 1_000_000, 1_500_000])
    with pytest.raises(EditError, match="out of order"):
        Edit.from_dict({**edit.to_dict(), "music": [{"id": "m", "asset_id": "s", "beats_us": [5, 3]}]})


def test_a_real_file_without_a_beat_is_refused_with_a_sentence(shared_media):
    # No music ships in ../shared/media; the cockatoo footage's sound track is digital silence.
    from studio.visual.beats import BeatError

    with pytest.raises(BeatError, match="no beat that can be heard"):
        analyse_file(shared_media / "cockatoo.mp4")
    with pytest.raises(BeatError, match="cannot be read as music|less than a second"):
        analyse_file(shared_media / "chunk_out_of_range.mp4")
