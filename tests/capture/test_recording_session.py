"""The record story through RecordingSession alone: no window, a synchronous pool, the test pattern.

Each blocking step (open, start, stop, save) runs in line on ``SynchronousPool``, so the states
follow one another deterministically; the camera worker and the encoder are the real ones.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from studio.capture import takes
from studio.capture.recorder import DiskFullError
from studio.capture.session import RecordingSession, State
from studio.capture.sources import CaptureError, FrameSource
from studio.media import ffmpeg
from studio.media.probe import probe
from studio.media.sound import AudioFeed
from studio.tasks import SynchronousPool, use_pool


@pytest.fixture
def session(qapp, studio):
    with use_pool(SynchronousPool()):
        s = RecordingSession(studio, pool=SynchronousPool())
        s.countdown_seconds = 0
        s.states = []
        s.errors = []
        s.stateChanged.connect(s.states.append)
        s.error.connect(s.errors.append)
        yield s
        s.shutdown()


def record(session: RecordingSession, seconds: float = 1.2) -> None:
    session.toggle()
    assert session.state is State.RECORDING
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
        session.poll()
    session.toggle()


def test_open_record_stop_save_walks_the_states(session, studio):
    session.open("synthetic", size=(320, 180))
    assert session.state is State.READY
    record(session)
    assert session.states == [State.OPENING, State.READY, State.COUNTDOWN, State.STARTING, State.RECORDING,
                              State.STOPPING, State.READY]
    (take,) = session.takes
    assert take.has_audio and take.duration_us >= 1_000_000

    saved = []
    session.saved.connect(lambda draft, then: saved.append((draft, then)))
    session.save("post")
    (draft, then), = saved
    assert then == "post" and session.takes == [] and session.state is State.READY
    assert session.states[-2:] == [State.SAVING, State.READY]
    assert len(studio.drafts.get(draft.id).assets) == 1
    assert takes.unsaved_takes(studio.layout) == []
    assert session.errors == []


def test_countdown_can_be_cancelled(session):
    session.countdown_seconds = 3
    session.open("synthetic", size=(320, 180))
    counts = []
    session.countdownChanged.connect(counts.append)
    session.toggle()
    assert session.state is State.COUNTDOWN and counts == [3]
    session.toggle()
    assert session.state is State.READY and counts == [3, 0]
    assert session.takes == []


def test_a_take_stops_by_itself_at_its_maximum_length(session):
    session.max_seconds = 1
    session.open("synthetic", size=(320, 180))
    session.toggle()
    deadline = time.monotonic() + 20
    while session.state is State.RECORDING and time.monotonic() < deadline:
        time.sleep(0.05)
        session.poll()
    assert session.state is State.READY
    (take,) = session.takes
    assert take.stop_reason == "max_length" and take.duration_us == 1_000_000


def test_a_bad_source_is_an_error_and_the_session_can_go_on(session, tmp_path):
    session.open(f"file:{tmp_path / 'nothing.mp4'}")
    assert session.state is State.CLOSED
    (err,) = session.errors
    assert isinstance(err, CaptureError) and "does not exist" in err.user_message
    session.open("synthetic", size=(320, 180))
    assert session.state is State.READY


def test_a_full_disk_refuses_the_take_with_its_exception(session, studio):
    session.take_options = {"disk_free": lambda _p: 10 * 2**20}
    session.open("synthetic", size=(320, 180))
    notices = []
    session.notice.connect(notices.append)
    session.toggle()
    assert session.state is State.READY
    (err,) = session.errors
    assert isinstance(err, DiskFullError) and "Free some space" in notices[-1]
    assert list(studio.layout.takes.iterdir()) == []


def test_deleted_take_comes_back_with_undo_and_its_file_goes_only_after(session, studio):
    session.open("synthetic", size=(320, 180))
    record(session, 0.8)
    record(session, 0.8)
    first, second = session.takes
    assert session.delete_take(0) is first
    assert session.takes == [second] and first.dir.exists()   # the undo window is open
    assert session.undo_delete() is first
    assert session.takes == [first, second]

    session.delete_take(1)
    assert second.dir.exists()
    session.purge_deleted()                                   # the undo window closed
    assert not second.dir.exists() and session.takes == [first]
    assert session.undo_delete() is None


def test_deleted_takes_go_when_the_session_ends(qapp, studio):
    s = RecordingSession(studio, pool=SynchronousPool())
    s.countdown_seconds = 0
    s.open("synthetic", size=(320, 180))
    record(s, 0.8)
    (take,) = s.takes
    s.delete_take(0)
    s.shutdown()
    assert not take.dir.exists()


def test_review_plays_the_take_into_the_preview(session):
    session.open("synthetic", size=(320, 180))
    record(session, 1.0)
    assert session.review(0)
    assert session.mailbox() is session.player.mailbox
    player = session.player
    assert player.finished.wait(10) and player.error is None
    assert player.frames_shown >= 10
    seq, frame, _ts = player.mailbox.latest()
    assert frame.shape[0] == 180
    session.poll()                                            # the end of the review is noticed
    assert session.player is None and session.reviewing == -1
    assert session.mailbox() is session.capture.mailbox


def test_review_plays_the_takes_own_sound(session, monkeypatch):
    """The take's sound plays with its picture. This machine has no sound output, so the device is
    the one thing stood in for: the PCM the feed would play is decoded by the real ffmpeg."""
    started = []
    monkeypatch.setattr(AudioFeed, "start", lambda self, argv: started.append(argv) or True)
    monkeypatch.setattr(AudioFeed, "stop", lambda self: started.append("stop"))
    session.open("synthetic", size=(320, 180))
    record(session, 1.0)
    (take,) = session.takes
    assert session.review(0)
    argv = started[0]
    pcm = ffmpeg.run(argv, timeout=60).stdout
    seconds = len(pcm) / (4 * 48_000)
    assert abs(seconds - take.duration_us / 1e6) < 0.1, seconds
    assert np.abs(np.frombuffer(pcm, np.int16)).max() > 1000, "the synthetic take has a tone"
    session.stop_review()
    assert started[-1] == "stop"


def test_review_without_a_sound_output_says_so_once(session, monkeypatch):
    monkeypatch.setattr("studio.media.sound.audio_output_available", lambda: False)
    notices = []
    session.notice.connect(notices.append)
    session.open("synthetic", size=(320, 180))
    record(session, 0.6)
    assert session.review(0)
    session.stop_review()
    assert session.review(0)
    silent = [n for n in notices if "without sound" in n]
    assert silent == ["Takes play without sound here: this computer has no sound output."]


def test_recording_refused_while_not_ready_and_save_refused_without_takes(session):
    session.toggle()                     # closed: nothing happens
    assert session.state is State.CLOSED
    session.save()
    assert session.states == []


def test_recovered_takes_join_the_list(session, studio):
    session.open("synthetic", size=(320, 180))
    record(session, 0.8)
    kept = session.keep_takes()          # as if the app had quit without saving
    session.shutdown()
    report = studio.drafts.recover()
    assert [t["id"] for t in report["unsaved_takes"]] == [kept[0].id]
    notices = []
    session.notice.connect(notices.append)
    session.adopt_recovered(report["unsaved_takes"])
    assert notices == ["1 recovered take added: play, save or delete them like any other."]
    (take,) = session.takes
    assert take.media.exists() and take.duration_us == probe(take.media).duration_us


class _NoPictures(FrameSource):
    """A camera that opens but delivers no frame before it gives up."""

    name = "silent camera"

    def __init__(self):
        super().__init__((320, 240), 30)
        self._closed = threading.Event()

    def open(self) -> None:
        self._closed.clear()

    def read(self):
        self._closed.wait(1.0)   # a second of nothing, then the source gives up
        return None

    def close(self) -> None:
        self._closed.set()


def test_a_take_with_no_pictures_is_an_error_and_leaves_nothing(session, studio):
    session.open(_NoPictures(), audio=None)
    assert session.state is State.READY and session.source_spec == "silent camera"
    session.toggle()
    assert session.state is State.RECORDING
    time.sleep(0.3)
    session.toggle()
    assert session.state is State.READY and session.takes == []
    (err,) = session.errors
    assert isinstance(err, CaptureError) and "Nothing was recorded" in err.user_message
    assert list(studio.layout.takes.iterdir()) == []


def test_a_failed_save_keeps_the_takes_and_says_why(session, studio, monkeypatch):
    from studio.drafts.types import DiskFullError as DraftsFull

    session.open("synthetic", size=(320, 180))
    record(session, 0.8)
    (take,) = session.takes

    def full(*_a, **_k):
        raise DraftsFull("The disk is full: free some space, then save again.")

    monkeypatch.setattr(studio.drafts, "save_takes", full)
    notices = []
    session.notice.connect(notices.append)
    session.save()
    assert session.state is State.READY and session.takes == [take] and take.media.exists()
    assert isinstance(session.errors[-1], DraftsFull) and "They are kept" in notices[-1]
    monkeypatch.undo()
    saved = []
    session.saved.connect(lambda d, _t: saved.append(d))
    session.save()                                             # trying again works
    assert saved and session.takes == []


def test_close_mid_take_keeps_the_take_then_lets_the_camera_go(session):
    session.open("synthetic", size=(320, 180))
    session.toggle()
    time.sleep(0.8)
    session.close()
    assert session.state is State.CLOSED and session.capture is None
    (take,) = session.takes
    assert take.media.exists() and take.duration_us >= 500_000


def test_close_during_the_countdown_cancels_it(session):
    session.countdown_seconds = 3
    session.open("synthetic", size=(320, 180))
    session.toggle()
    session.close()
    assert session.state is State.CLOSED and session.capture is None and session.takes == []
