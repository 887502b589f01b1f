"""The embedded local S3 ("This computer", ~660 MB of SeaweedFS) lives only as long as the app:
stopped when it quits, even mid-upload (the upload continues next time), and gone when the app is
killed; `studio local-s3 start` is the one way to keep it running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from uploader_helpers import MiB, make_file


def weed_pids(profile: Path) -> list[int]:
    """Every live weed process whose data folder is in ``profile``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if b"weed" in cmd and str(profile).encode() in cmd and ") Z " not in stat:
            found.append(int(entry.name))
    return found


def wait_until(check, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_local_s3_stops_with_the_app_even_with_uploads_pending(tmp_path):
    from studio.app import build

    data = tmp_path / "profile"
    studio = build(data)
    s3 = studio.local_s3
    s3.ensure_running()
    assert s3.state() is not None
    studio.close()
    assert s3.state() is None and not weed_pids(data)   # nothing pending: stopped with the app

    studio = build(data)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "later.mp4", 1 * MiB), "local")
    studio.local_s3.ensure_running()
    assert studio.uploads.unfinished_count() == 1
    studio.close()
    assert not weed_pids(data)   # pending too: nothing uploads while the app is closed
    again = build(data)
    try:
        assert again.uploads.run(until_idle=True, poll=0.05)["completed"] == 1   # started again on demand
        assert again.uploads.get(job.id).state == "COMPLETED"
        assert again.uploads.unfinished_count() == 0
    finally:
        again.close()
    assert not weed_pids(data)


def _slow_local_upload(data: Path, tmp_path: Path) -> str:
    """A queued upload to "This computer" slow enough to be mid-way when the app quits."""
    from studio.app import build

    studio = build(data)
    try:
        studio.targets.add(replace(studio.targets.get("local"), bandwidth_limit=512 * 1024, part_size=5 * MiB,
                                   concurrency=1), replace_existing=True)
        return studio.uploads.enqueue_file(make_file(tmp_path / "long.mp4", 40 * MiB), "local").id
    finally:
        studio.close()


def _app(data: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data), "--page", "uploads", *extra],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def _bytes_done(data: Path, job_id: str) -> int:
    from studio.app import build

    studio = build(data)
    try:
        return studio.uploads.get(job_id).bytes_done
    finally:
        studio.close()


def test_quitting_the_app_mid_upload_leaves_no_seaweedfs(tmp_path):
    data = tmp_path / "profile"
    job_id = _slow_local_upload(data, tmp_path)
    app = _app(data, "--quit-after", "45")
    try:
        wait_until(lambda: weed_pids(data) and _bytes_done(data, job_id) > 0, 45, "the upload to start")
        assert app.wait(timeout=120) == 0, app.stdout.read().decode(errors="replace")
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    wait_until(lambda: not weed_pids(data), 10, "SeaweedFS to stop with the app")
    from studio.app import build

    studio = build(data)
    try:
        job = studio.uploads.get(job_id)
        assert job.state != "COMPLETED" and 0 < job.bytes_done < job.size   # it continues next time
        assert studio.uploads.unfinished_count() == 1
    finally:
        studio.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_seaweedfs_dies_when_the_app_is_killed(tmp_path):
    data = tmp_path / "profile"
    job_id = _slow_local_upload(data, tmp_path)
    app = _app(data)
    try:
        wait_until(lambda: weed_pids(data) and _bytes_done(data, job_id) > 0, 60, "the upload to start")
        os.kill(app.pid, signal.SIGKILL)
        app.wait(timeout=10)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    wait_until(lambda: not weed_pids(data), 20, "SeaweedFS to die with the killed app")


def test_local_s3_start_keeps_it_running_after_the_command(tmp_path, cli):
    data = tmp_path / "profile"
    out = subprocess.run([sys.executable, "-m", "studio", "--data-dir", str(data), "local-s3", "start"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    try:
        assert weed_pids(data)   # asked for: it outlives the command
    finally:
        subprocess.run([sys.executable, "-m", "studio", "--data-dir", str(data), "local-s3", "stop"],
                       capture_output=True, text=True, timeout=60)
    wait_until(lambda: not weed_pids(data), 10, "local-s3 stop")
