"""`studio record` in a real child process: the short take, and Ctrl+C / SIGTERM mid-take."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from studio.capture import takes
from studio.media.probe import probe


def test_two_seconds_of_test_pattern_as_json(cli, studio):
    proc = cli("record", "--source", "synthetic", "--seconds", "2", "--size", "640x360", "--json", timeout=90)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] and out["stop_reason"] == "max_length" and out["duration_us"] == 2_000_000
    (asset,) = studio.drafts.get(out["draft_id"]).assets
    assert probe(studio.drafts.asset_path(asset)).audio is not None


@pytest.mark.slow
@pytest.mark.parametrize("sig, whole_group", [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["ctrl-c-in-a-terminal", "sigterm"])
def test_a_signal_stops_the_take_and_keeps_it(data_dir, studio, sig, whole_group):
    cmd = [sys.executable, "-m", "studio", "--data-dir", str(data_dir), "record", "--source", "synthetic",
           "--seconds", "120", "--size", "640x360", "--json"]
    # Its own process group, so a group signal is what Ctrl+C in a terminal sends (ffmpeg gets it too).
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("Recording"), line + proc.stderr.read()
        time.sleep(4)   # the draft store opens meanwhile, as it would in a real take
        if whole_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        signalled = time.monotonic()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    print(f"stopped {took:.2f} s after the signal")
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["stop_reason"] == "user" and result["duration_us"] >= 3_000_000
    (asset,) = studio.drafts.get(result["draft_id"]).assets
    info = probe(studio.drafts.asset_path(asset))
    assert abs(info.duration_us - result["duration_us"]) <= 100_000 and info.audio is not None
    assert takes.unsaved_takes(studio.layout) == []
