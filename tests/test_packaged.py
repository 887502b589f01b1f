"""Smoke test of the PyInstaller build (`make package-test`; CI runs it after `make test`).

Skipped in the plain `make test` run unless STUDIO_PACKAGED names the built binary.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sound_server import SINK, SOURCE, pulse_server

pytestmark = pytest.mark.packaged
BINARY = os.environ.get("STUDIO_PACKAGED")


@pytest.fixture(scope="module")
def binary() -> Path:
    if not BINARY:
        pytest.skip("set STUDIO_PACKAGED to the built binary (make package-test)")
    path = Path(BINARY).resolve()
    assert path.is_file(), f"{path} was not built"
    return path


def _run(binary: Path, *args: str, tmp: Path, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in {**os.environ, **(env or {})}.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "STUDIO_FFMPEG", "STUDIO_WEED")}
    env["PATH"] = "/usr/bin:/bin"  # the bundle must not lean on the venv
    env["HOME"] = str(tmp / "home")
    (tmp / "home").mkdir(exist_ok=True)
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL, cwd=tmp)


def test_packaged_version(binary: Path, tmp_path: Path):
    r = _run(binary, "--version", tmp=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("Reel Studio ")


def test_packaged_doctor_uses_bundled_ffmpeg_and_weed(binary: Path, tmp_path: Path):
    r = _run(binary, "--data-dir", str(tmp_path / "d"), "doctor", "--json", tmp=tmp_path)
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["ok"] is True, r.stdout + r.stderr
    bundle = binary.parent
    assert Path(report["ffmpeg"]["path"]).resolve().is_relative_to(bundle)
    assert report["ffmpeg"]["encoders"] == {"libx264": True, "aac": True}
    assert Path(report["local_s3"]["binary"]).resolve().is_relative_to(bundle)
    assert report["database"]["ok"] is True


def test_packaged_sound_without_a_qt_media_backend(binary: Path, tmp_path: Path):
    """The bundle ships no Qt Multimedia backend (packaging/slim.py): the microphone and the speakers
    of a real sound server are still found, through libQt6Multimedia's own PulseAudio code."""
    assert not (binary.parent / "_internal/PySide6/Qt/plugins/multimedia").exists()
    with pulse_server(tmp_path / "pulse") as server:
        r = _run(binary, "--data-dir", str(tmp_path / "d"), "doctor", "--json", tmp=tmp_path,
                 env={"PULSE_SERVER": server})
    report = json.loads(r.stdout)
    assert SOURCE in [m["name"] for m in report["microphones"]], r.stdout + r.stderr
    assert SINK in [s["name"] for s in report["speakers"]], r.stdout + r.stderr


def test_packaged_window_opens_and_exits_by_itself(binary: Path, tmp_path: Path):
    r = _run(binary, "--data-dir", str(tmp_path / "d"), "--quit-after", "3", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "multimedia" not in r.stderr.lower(), r.stderr   # Qt Multimedia's start-up notes are not the user's
    assert "main window shown" in (tmp_path / "d" / "logs" / "studio.log").read_text()


def test_packaged_camera_stand_in_and_editor_decode_with_the_shared_ffmpeg(binary: Path, tmp_path: Path):
    """OpenCV reads a video file as a camera through the FFmpeg it now shares with PyAV (packaging/slim.py),
    and the editor's preview decodes the take with PyAV, in the packaged window."""
    media = Path(__file__).resolve().parents[2] / "shared" / "media" / "cockatoo.mp4"   # as conftest finds it
    assert media.is_file(), f"{media} is missing; tests need the shared media next to the checkout"
    data = tmp_path / "d"
    r = _run(binary, "--data-dir", str(data), "record", "--source", f"file:{media}", "--seconds", "2",
             "--no-sound", "--json", tmp=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    draft_id = json.loads(r.stdout)["draft_id"]
    r = _run(binary, "--data-dir", str(data), "--open", draft_id, "--quit-after", "6", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    log = (data / "logs" / "studio.log").read_text()
    assert "main window shown" in log and "Traceback" not in log and " ERROR " not in log, log
