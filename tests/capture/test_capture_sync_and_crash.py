"""The long ones: A/V sync over a minute, and a recorder killed mid-take."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from studio.capture import takes
from studio.capture.recorder import record_take
from studio.capture.clock import SyncMarks
from studio.capture.sources import SyntheticSource
from studio.capture.sync_check import measure
from studio.media.probe import probe


@pytest.mark.slow
def test_flash_and_beep_stay_within_one_frame_after_a_minute(studio):
    fps = 30
    take = record_take(studio.layout, SyntheticSource((640, 360), fps, marks=SyncMarks(every=2.0, first=1.0)),
                       seconds=60)
    report = measure(take.media, fps)
    assert len(report.flashes) >= 29 and len(report.offsets) == len(report.flashes)
    assert report.worst <= 1 / fps, report.offsets
    # Late in the take as early: no drift between the clocks.
    assert abs(report.offsets[-1] - report.offsets[0]) <= 1 / fps


@pytest.mark.slow
def test_a_killed_recorder_leaves_a_take_that_recovery_offers_back(data_dir, cli):
    cmd = [sys.executable, "-m", "studio", "--data-dir", str(data_dir), "record", "--source", "synthetic",
           "--seconds", "30", "--size", "640x360", "--json"]
    # Own session: kill -9 hits the recorder *and* its ffmpeg child, the harshest crash.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("Recording"), line
        started = time.monotonic()
        time.sleep(10)
        os.killpg(proc.pid, signal.SIGKILL)
        elapsed = time.monotonic() - started
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
    from studio.paths import resolve

    (take,) = takes.unsaved_takes(resolve(data_dir))
    assert take.recovered and take.state == "finished"
    info = probe(take.media)
    assert info.duration_us / 1e6 >= elapsed - 2
    assert info.audio is not None
    # The app's recovery lists it for the creator.
    rec = cli("drafts", "recover", "--json")
    assert rec.returncode == 0, rec.stderr
    assert take.id in rec.stdout
