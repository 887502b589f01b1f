"""The foundation as a new user meets it: the command, the doctor, the data layout, the window."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cli_runner import run_cli
from sound_server import SINK, SOURCE, pulse_server


def test_version_prints_app_name_and_version():
    r = run_cli("--version")
    assert r.returncode == 0
    assert re.fullmatch(r"Reel Studio \d+\.\d+\.\d+\n", r.stdout)


def test_doctor_json_reports_what_a_user_needs(data_dir: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    r = run_cli("doctor", "--json", data_dir=data_dir, env={"HOME": str(home)})
    report = json.loads(r.stdout)
    for key in ("ok", "ffmpeg", "data_dir", "database", "cameras", "microphones", "local_s3"):
        assert key in report, key
    assert set(report["ffmpeg"]) >= {"path", "version", "encoders"}
    assert report["ffmpeg"]["encoders"] == {"libx264": True, "aac": True}
    assert Path(report["ffmpeg"]["path"]).is_file()
    assert report["data_dir"]["path"] == str(data_dir)
    assert report["data_dir"]["writable"] is True
    assert report["ok"] is True and r.returncode == 0
    assert isinstance(report["cameras"], list) and isinstance(report["microphones"], list)
    # Nothing written outside the profile: the fake HOME stays empty.
    assert list(home.iterdir()) == []


def test_doctor_finds_the_microphone_and_speakers_of_a_real_sound_server(data_dir: Path, tmp_path: Path):
    with pulse_server(tmp_path / "pulse") as server:
        r = run_cli("doctor", "--json", data_dir=data_dir, env={"PULSE_SERVER": server})
        human = run_cli("doctor", data_dir=data_dir, env={"PULSE_SERVER": server})
    report = json.loads(r.stdout)
    assert SOURCE in [m["name"] for m in report["microphones"]]
    assert SINK in [s["name"] for s in report["speakers"]] and report["speakers_note"] is None
    assert f"sound output: {SINK}" in human.stdout


def test_doctor_says_playback_is_silent_without_a_sound_server(data_dir: Path, tmp_path: Path):
    r = run_cli("doctor", "--json", data_dir=data_dir, env={"PULSE_SERVER": f"unix:{tmp_path / 'none'}"})
    report = json.loads(r.stdout)
    assert report["speakers"] == [] and report["speakers_note"] == "No sound output found: playback is silent."
    assert report["ok"] is True   # sound is optional


def test_doctor_human_output_and_failure_exit_code(data_dir: Path, tmp_path: Path):
    r = run_cli("doctor", data_dir=data_dir)
    assert r.returncode == 0 and "ffmpeg" in r.stdout and "All required parts are present." in r.stdout
    r = run_cli("doctor", "--json", data_dir=data_dir, env={"STUDIO_FFMPEG": str(tmp_path / "nope")})
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["ok"] is False
    assert "STUDIO_FFMPEG" in report["ffmpeg"]["fix"]


def test_data_dir_env_var_and_first_run_layout(tmp_path: Path):
    d = tmp_path / "envprofile"
    r = run_cli("doctor", "--json", env={"STUDIO_DATA_DIR": str(d)})
    assert json.loads(r.stdout)["data_dir"]["path"] == str(d)
    for sub in ("media", "logs", "local-s3", "cache/takes", "cache/thumbs", "cache/staging", "config"):
        assert (d / sub).is_dir(), sub
    assert (d / "logs" / "studio.log").is_file()


def test_doctor_reports_unwritable_data_dir(tmp_path: Path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; covered by the read-only tests of the draft store")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    r = run_cli("doctor", "--json", data_dir=ro / "inner")
    assert r.returncode != 0


def test_gui_opens_and_quits_by_itself(data_dir: Path):
    r = run_cli("--quit-after", "1", data_dir=data_dir, env={"STUDIO_STARTUP_PROBE": "1"}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "studio:window-shown" in r.stdout
    assert "main window shown" in (data_dir / "logs" / "studio.log").read_text()


def test_no_widget_imports_outside_ui():
    root = Path(__file__).resolve().parent.parent / "studio"
    offenders = []
    for py in root.rglob("*.py"):
        if "ui" in py.relative_to(root).parts[:1]:
            continue
        text = py.read_text(encoding="utf-8")
        if re.search(r"^\s*(from|import)\s+PySide6\.(QtWidgets|QtMultimediaWidgets)", text, re.MULTILINE):
            offenders.append(str(py.relative_to(root)))
    assert offenders == []
