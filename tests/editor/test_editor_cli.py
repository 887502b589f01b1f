"""The editor's commands as a user types them: export-edit / import-edit / export-otio / render."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from editor_render_helpers import top_level_boxes

from studio.media import probe


def imported(cli, *files: Path) -> str:  # noqa: ANN001
    r = cli("drafts", "import", *map(str, files), *(["--together"] if len(files) > 1 else []), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


def test_export_edit_import_edit_round_trip_keeps_unknown_fields(cli, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft_id = imported(cli, shared_media / "realshort.mp4")
    r = cli("drafts", "export-edit", draft_id[:8])
    assert r.returncode == 0, r.stderr
    edit = json.loads(r.stdout)
    edit["x_future_field"] = {"keep": ["me", 1]}
    edit["clips"][0]["x_transition"] = "whip"
    edit["clips"][0]["source_in_us"] = 100_000
    edit["texts"].append({"id": "t1", "text": "hi", "start_us": 0, "end_us": 500_000, "x_glow": True})
    file = tmp_path / "edit.json"
    file.write_text(json.dumps(edit))
    r = cli("drafts", "import-edit", draft_id, str(file), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["revision"] == 2
    again = json.loads(cli("drafts", "export-edit", draft_id).stdout)
    assert again["x_future_field"] == {"keep": ["me", 1]}
    assert again["clips"][0]["x_transition"] == "whip" and again["clips"][0]["source_in_us"] == 100_000
    assert again["texts"][0]["x_glow"] is True


def test_import_edit_refuses_a_bad_document_and_keeps_the_draft(cli, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft_id = imported(cli, shared_media / "realshort.mp4")
    edit = json.loads(cli("drafts", "export-edit", draft_id).stdout)
    edit["clips"][0]["speed"] = 9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(edit))
    r = cli("drafts", "import-edit", draft_id, str(bad))
    assert r.returncode == 1 and "speed must be between" in r.stderr
    edit["clips"][0]["speed"] = 1.0
    edit["clips"][0]["asset_id"] = "f" * 32
    bad.write_text(json.dumps(edit))
    r = cli("drafts", "import-edit", draft_id, str(bad), "--json")
    assert r.returncode == 1 and json.loads(r.stdout.splitlines()[0])["ok"] is False
    shown = json.loads(cli("drafts", "show", draft_id, "--json").stdout)
    assert shown["revision"] == 1


def test_render_writes_an_upload_ready_mp4(cli, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft_id = imported(cli, shared_media / "realshort.mp4", shared_media / "video_rotation_90.mp4")
    out = tmp_path / "out.mp4"
    r = cli("render", draft_id, "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert "Rendering" in r.stderr and "100%" in r.stderr
    assert json.loads(r.stdout)["path"] == str(out)
    info = probe.probe(out)
    assert (info.video.width, info.video.height, info.video.profile, info.video.pix_fmt) == (1080, 1920, "High",
                                                                                             "yuv420p")
    assert (info.audio.codec, info.audio.sample_rate) == ("aac", 48_000)
    assert abs(info.duration_us - (1_200_000 + 40_000)) <= 34_000
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")


def test_render_unknown_draft_is_a_clear_error(cli) -> None:  # noqa: ANN001
    r = cli("render", "abcdef123456", "-o", "x.mp4")
    assert r.returncode == 1 and "no draft" in r.stderr.lower()


def test_ctrl_c_cancels_a_render_cleanly(cli, data_dir: Path, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft_id = imported(cli, shared_media / "cockatoo.mp4")       # 14 s: long enough to interrupt
    out_dir = tmp_path / "exports"
    proc = subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "render", draft_id,
                             "-o", str(out_dir / "out.mp4")], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "Rendering" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        assert "Rendering" in line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "cancelled" in err
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    shown = json.loads(cli("drafts", "show", draft_id, "--json").stdout)
    assert shown["status"] == "draft"


def test_export_otio_command(cli, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft_id = imported(cli, shared_media / "realshort.mp4")
    out = tmp_path / "reel.otio"
    r = cli("drafts", "export-otio", draft_id, "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["clips"] == 1
    data = json.loads(out.read_text())
    assert data["OTIO_SCHEMA"].startswith("Timeline")
