"""Recording takes headless: length, sound, real timing, the disk guard, and no camera."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from studio.capture import audio as audio_mod
from studio.capture import sources, takes
from studio.capture.recorder import CaptureSession, TakeWriter
from studio.capture.sources import CaptureError, FrameSource, NoCameraError, SyntheticSource, make_source
from studio.media.encode import decode_luma
from studio.media.probe import probe


def test_five_seconds_of_test_pattern_become_a_draft_with_sound(cli, studio):
    proc = cli("record", "--source", "synthetic", "--seconds", "5", "--size", "640x360", "--fps", "25",
               "--title", "First reel", "--json", timeout=90)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    draft = studio.drafts.get(out["draft_id"])
    assert draft.title == "First reel"
    (asset,) = draft.assets
    info = probe(studio.drafts.asset_path(asset))
    assert info.video.fps == 25
    assert abs(info.duration_us - 5_000_000) <= 1_000_000 / 25
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.video.pix_fmt == "yuv420p"
    assert takes.unsaved_takes(studio.layout) == []  # the take moved into the draft, its folder is gone


def test_a_video_file_played_as_a_camera_keeps_its_timing(studio, shared_media, monkeypatch):
    monkeypatch.setattr(audio_mod, "default_microphone", lambda: None)
    monkeypatch.setattr("studio.capture.recorder.default_microphone", lambda: None)
    cockatoo = shared_media / "cockatoo.mp4"
    session = CaptureSession(studio.layout, make_source(f"file:{cockatoo}"))
    session.open()
    try:
        assert session.fps == 20
        assert "No microphone" in session.audio_note
        t0 = time.monotonic()
        session.start_take(max_seconds=4)
        session.take_done.wait(30)
        elapsed = time.monotonic() - t0
        take = session.stop_take()
    finally:
        session.close()
    assert elapsed >= 3.8, "the file must play at its own rate, not as fast as it decodes"
    assert take.stats.written == 80 and take.stats.extra == 0
    # Every slot got its own source frame (a frame or two dropped behind a starved encoder is tolerated).
    assert take.stats.late == take.stats.dropped <= 2
    assert not take.has_audio
    info = probe(take.media)
    assert info.video.fps == 20 and abs(info.duration_us - 4_000_000) <= 50_000
    # Frame pacing. The file plays from the moment the source opens, as a live camera does, so the
    # take begins at whichever source frame is current when Record is pressed (frame 0, or one or
    # two later on a busy machine). From there recorded frame i is source frame i + start in both
    # halves of the take: no repeats, no skips, no speed change. (Colour conversion makes no frame
    # identical, so compare alignments: only one shift may fit.)
    recorded = decode_luma(take.media).astype(np.int16)[:80]
    original = decode_luma(cockatoo).astype(np.int16)[:90]

    def mismatch(shift: int, lo: int = 2, hi: int = 78) -> float:
        return float(np.abs(recorded[lo:hi] - original[lo + shift: hi + shift]).mean())

    start = min(range(6), key=mismatch)
    for lo, hi in ((2, 40), (40, 78)):
        fits = {s: mismatch(s, lo, hi) for s in range(max(0, start - 2), start + 3)}
        best = min(fits, key=fits.get)
        # a frame dropped behind a starved encoder (tolerated above) moves the later frames on by one
        assert start <= best <= start + take.stats.dropped, (lo, hi, fits, take.stats)
        assert fits[best] < 0.75 * min(v for s, v in fits.items() if s != best), (lo, hi, fits, take.stats)


class _JitteryCamera(FrameSource):
    """A webcam that varies its frame interval (25-45 ms) the way auto-exposure makes real ones do."""

    name = "jittery"

    def __init__(self):
        super().__init__((320, 240), 30)
        self.intervals = [0.025, 0.045, 0.030, 0.040, 0.035]
        self.n = 0

    def open(self) -> None:
        self.next = time.monotonic()

    def read(self):
        self.next += self.intervals[self.n % len(self.intervals)]
        self.n += 1
        time.sleep(max(0.0, self.next - time.monotonic()))
        return np.full((240, 320, 3), self.n % 256, np.uint8), self.next


def test_a_variable_rate_camera_keeps_real_time(studio):
    session = CaptureSession(studio.layout, _JitteryCamera(), audio=None, fps=30)
    session.open()
    try:
        writer = session.start_take()
        time.sleep(3)
        span = None
        take = session.stop_take()
        span = writer.stats.captured * 0.035
    finally:
        session.close()
    # ~28.6 frames/s delivered, 30 written: the missing slots repeat a picture; the length is real time.
    assert take.stats.late > 0
    assert abs(take.duration_us / 1e6 - span) < 0.1
    assert abs(probe(take.media).duration_us / 1e6 - span) < 0.1


def test_writer_places_frames_by_timestamp(studio):
    writer = TakeWriter(studio.layout, size=(64, 48), fps=10, source="test", audio=None)
    writer.start()
    frame = np.zeros((48, 64, 3), np.uint8)
    for ts in (100.0, 100.1, 100.2, 100.5, 100.52, 100.6):   # a gap of 2 slots, then a frame too early
        writer.offer_frame(frame, ts)
        time.sleep(0.02)
    take = writer.finish(hold=True)
    assert (take.stats.written, take.stats.late, take.stats.extra) == (7, 2, 1)
    assert take.duration_us == 700_000
    assert len(decode_luma(take.media)) == 7
    # While the Record page still shows the take, recovery leaves it alone; afterwards it is offered.
    assert takes.unsaved_takes(studio.layout) == []
    take.release()
    (offered,) = takes.unsaved_takes(studio.layout)
    assert offered.id == take.id and offered.state == "finished" and not offered.recovered


def test_a_take_with_no_pictures_leaves_nothing_behind(studio):
    writer = TakeWriter(studio.layout, size=(64, 48), fps=10, source="test", audio=(48_000, 1))
    writer.start()
    with pytest.raises(CaptureError, match="Nothing was recorded"):
        writer.finish()
    assert list(studio.layout.takes.iterdir()) == []


def test_the_disk_guard_stops_cleanly_and_keeps_the_take(studio):
    calls = {"n": 0}

    def disk_free(_path: Path) -> int:
        calls["n"] += 1
        return 10 * 2**30 if calls["n"] <= 2 else 50 * 2**20   # fills up after ~2 s

    session = CaptureSession(studio.layout, SyntheticSource((320, 240), 15))
    session.open()
    try:
        writer = session.start_take(max_seconds=30, disk_free=disk_free)
        assert writer.done.wait(20)
        take = session.stop_take()
    finally:
        session.close()
    assert take.stop_reason == "disk_full"
    assert 1.5 <= take.duration_us / 1e6 <= 3.5
    assert probe(take.media).audio is not None


def test_recording_refuses_to_start_on_a_full_disk(studio):
    session = CaptureSession(studio.layout, SyntheticSource((320, 240), 15), audio=None)
    session.open()
    try:
        from studio.capture.recorder import DiskFullError

        with pytest.raises(DiskFullError, match="Free some space"):
            session.start_take(disk_free=lambda _p: 10 * 2**20)
        assert not session.recording
    finally:
        session.close()
    assert list(studio.layout.takes.iterdir()) == []


def test_no_camera_gives_a_clear_message_and_offers_the_test_pattern(monkeypatch, cli):
    monkeypatch.setattr("studio.capture.devices.list_cameras", lambda: [])
    choices, notice = sources.source_choices()
    assert [c.id for c in choices] == ["synthetic"]
    assert "No camera" in notice and "test pattern" in notice
    with pytest.raises(NoCameraError, match="synthetic"):
        make_source("camera:63").open()
    proc = cli("record", "--source", "camera:63", "--seconds", "1", "--json")
    assert proc.returncode == 1
    assert "synthetic" in json.loads(proc.stdout)["error"]


class _FakeAudioSource:
    """Stands in for QAudioSource: hands out 48 kHz mono silence-with-noise as time passes."""

    def __init__(self, fmt):  # noqa: ANN001
        self.rate = fmt.sampleRate()
        self.started = None

    def start(self):  # noqa: ANN201
        self.started = time.monotonic()
        self.sent = 0
        outer = self

        class _IO:
            def readAll(self) -> bytes:  # noqa: N802 - Qt's name
                due = int((time.monotonic() - outer.started) * outer.rate)
                n, outer.sent = due - outer.sent, due
                return (np.random.default_rng(n).integers(-3000, 3000, n)).astype("<i2").tobytes()

        return _IO()

    def stop(self) -> None:
        pass


def test_microphone_sound_is_muxed_into_the_take(studio, qapp):
    mic = audio_mod.MicrophoneInput(factory=_FakeAudioSource, name="Fake mic")
    session = CaptureSession(studio.layout, SyntheticSource((320, 240), 15), audio=mic)
    session.open()
    try:
        assert session.audio_note == "Sound: Fake mic"
        session.start_take(max_seconds=2)
        session.take_done.wait(20)
        take = session.stop_take()
    finally:
        session.close()
    assert take.has_audio and take.stats.audio_seconds > 1.5
    assert probe(take.media).audio is not None


def test_chunk_placer_counts_samples_and_resyncs_after_a_stall():
    now = [10.0]
    placer = audio_mod._ChunkPlacer(96_000, lambda: now[0])
    assert placer.place(9600) == pytest.approx(9.9)         # 0.1 s just arrived
    now[0] = 10.11
    assert placer.place(9600) == pytest.approx(10.0)        # counted, not the jittery wake-up time
    now[0] = 11.0
    assert placer.place(9600) == pytest.approx(10.9)        # a stall: trust the clock again
