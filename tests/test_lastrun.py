"""The window stays honest about how it last ended: a fatal error leaves a trace in the app's logs,
the next start says the app closed unexpectedly and offers to reopen what was open, and a normal
quit brings the creator back to the page they left (window size kept)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.lastrun import LastRun

from cli_runner import run_cli


def _gui(data_dir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "STUDIO_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)


def _wait_shown(proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == "studio:window-shown":
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"the window never showed: {proc.stderr.read()[-2000:]}")


def test_a_clean_run_is_remembered_with_its_page(tmp_path):
    runs = LastRun(tmp_path)
    assert runs.begin() is None  # first run ever
    runs.update(page="editor", draft_id="d" * 32)
    runs.end()
    again = LastRun(tmp_path)
    previous = again.begin()
    assert previous is not None and previous.clean and not previous.crashed
    assert (previous.page, previous.draft_id) == ("editor", "d" * 32)
    again.end()


def test_the_ui_thread_hands_the_marker_over_and_never_fsyncs_it(tmp_path, monkeypatch):
    """begin() and update() run on the UI thread (start, every page change): the marker's fsync is
    made by the writer thread; end() returns once the last, clean state is on disk."""
    import studio.lastrun as lastrun

    fsynced_on = []
    real_fsync = os.fsync

    def fsync(fd):
        fsynced_on.append(threading.current_thread() is threading.main_thread())
        real_fsync(fd)

    monkeypatch.setattr(lastrun.os, "fsync", fsync)
    runs = LastRun(tmp_path)
    runs.begin()
    for page in ("record", "editor", "drafts", "uploads"):
        runs.update(page=page)
    runs.end()
    assert fsynced_on and not any(fsynced_on), "the UI thread waited on the disk for the marker"
    marker = json.loads((tmp_path / "last-run.json").read_text())
    assert marker["clean"] is True and marker["page"] == "uploads"


def test_a_run_that_never_ended_is_reported_once_its_process_is_gone(tmp_path):
    (tmp_path / "last-run.json").write_text(json.dumps(
        {"pid": 2**22 + 12345, "clean": False, "page": "record", "draft_id": None, "updated_us": 1}))
    previous = LastRun(tmp_path).previous()
    assert previous is not None and previous.crashed and previous.page == "record"
    # the same marker owned by a live process is another window of this profile, not a crash
    (tmp_path / "last-run.json").write_text(json.dumps({"pid": os.getppid(), "clean": False}))
    assert LastRun(tmp_path).previous() is None
    # a marker cut off mid-write still counts as unexpected
    (tmp_path / "last-run.json").write_text('{"pid": 1')
    assert LastRun(tmp_path).previous().crashed


@pytest.mark.slow
def test_a_fatal_signal_leaves_a_trace_and_the_next_start_says_so(data_dir):
    proc = _gui(data_dir, "--page", "drafts")
    _wait_shown(proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGSEGV)  # what a crash inside a native library looks like
    proc.wait(timeout=30)
    assert proc.returncode != 0
    fatal = (data_dir / "logs" / "fatal.log").read_text()
    assert "Segmentation fault" in fatal and ("Current thread" in fatal or "Thread 0x" in fatal), fatal

    r = run_cli("--quit-after", "4", data_dir=data_dir, timeout=90)
    assert r.returncode == 0, r.stderr
    log = (data_dir / "logs" / "studio.log").read_text()
    assert "closed unexpectedly last time" in log and "Segmentation fault" in log
    assert "crash notice shown (last run: page drafts" in log
    marker = json.loads((data_dir / "logs" / "last-run.json").read_text())
    assert marker["clean"] is True


@pytest.mark.slow
def test_a_killed_run_is_noticed_without_a_trace(data_dir):
    proc = _gui(data_dir, "--page", "uploads")
    _wait_shown(proc)
    proc.kill()  # SIGKILL: nothing can be written, the marker alone tells
    proc.wait(timeout=30)
    r = run_cli("--quit-after", "4", data_dir=data_dir, timeout=90)
    assert r.returncode == 0, r.stderr
    log = (data_dir / "logs" / "studio.log").read_text()
    assert "no fatal error was recorded" in log
    assert "crash notice shown (last run: page uploads" in log


@pytest.mark.slow
def test_reopening_returns_to_the_page_that_was_open(data_dir):
    r = run_cli("--page", "uploads", "--quit-after", "1.5", data_dir=data_dir, timeout=60)
    assert r.returncode == 0, r.stderr
    settings = (data_dir / "config" / "settings.ini").read_text()
    assert "geometry" in settings
    r = run_cli("--quit-after", "1.5", data_dir=data_dir, timeout=60)
    assert r.returncode == 0, r.stderr
    marker = json.loads((data_dir / "logs" / "last-run.json").read_text())
    assert marker["page"] == "uploads" and marker["clean"] is True
    assert "crash notice shown" not in (data_dir / "logs" / "studio.log").read_text()


def test_the_notice_names_the_draft_and_reopens_it(qtbot):
    from studio.lastrun import PreviousRun
    from studio.ui.crash_notice import CrashNotice

    previous = PreviousRun(clean=False, page="editor", draft_id="abc123", ended_us=1_700_000_000_000_000,
                           trace="Fatal Python error: Segmentation fault")
    notice = CrashNotice(previous, None, "/tmp", None)
    qtbot.addWidget(notice)
    assert "You were editing a draft" in notice.message.text()
    notice.set_draft_title("Beach day")
    assert "“Beach day”" in notice.message.text() and notice.reopen_button.text() == "Reopen “Beach day”"
    assert "safe" in notice.message.text()
    with qtbot.waitSignal(notice.reopen, timeout=1000):
        notice.reopen_button.click()
