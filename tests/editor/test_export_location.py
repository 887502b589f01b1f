"""Export lands where people look: the Videos folder (or the one chosen in Settings), named after the
draft's title, never over an existing file; `studio render` without -o says where it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.editor.export import (ExportError, creator_output, default_export_folder, export_file_name,
                                  export_folder, export_for_creator, set_export_folder)


@pytest.mark.parametrize("title, name", [
    ("Beach day", "Beach day.mp4"),
    ("a/b\\c:d*e?f\"g<h>i|j", "a b c d e f g h i j.mp4"),
    ("  ..trailing dots..  ", "trailing dots.mp4"),
    ("", "Reel.mp4"),
    ("CON", "CON reel.mp4"),
    ("Cockatoo 🐦 ✨", "Cockatoo 🐦 ✨.mp4"),
    ("x" * 200, "x" * 80 + ".mp4"),
])
def test_file_names_come_from_the_title(title, name):
    assert export_file_name(title) == name


def test_the_folder_is_videos_or_the_chosen_one(studio, tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_EXPORT_DIR", raising=False)
    # an isolated profile writes nothing outside itself: its own Videos folder
    assert export_folder(studio.layout) == default_export_folder(studio.layout) == studio.layout.data / "Videos"
    chosen = set_export_folder(studio.layout, tmp_path / "My exports")
    assert chosen == tmp_path / "My exports" == export_folder(studio.layout) and chosen.is_dir()
    monkeypatch.setenv("STUDIO_EXPORT_DIR", str(tmp_path / "env"))
    assert export_folder(studio.layout) == tmp_path / "env"
    monkeypatch.delenv("STUDIO_EXPORT_DIR")
    assert set_export_folder(studio.layout, None) == studio.layout.data / "Videos"
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.geteuid() != 0:   # root writes anywhere
            with pytest.raises(ExportError, match="cannot be written"):
                set_export_folder(studio.layout, ro)
    finally:
        ro.chmod(0o700)


def test_export_for_the_creator_is_named_after_the_draft(qapp, studio, shared_media, monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_EXPORT_DIR", str(tmp_path / "Videos"))
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Beach: day 1")
    first = export_for_creator(studio, draft.id)
    assert first == tmp_path / "Videos" / "Beach day 1.mp4" and first.stat().st_size > 10_000
    assert creator_output(studio, studio.drafts.get(draft.id)).name == "Beach day 1 (2).mp4"
    second = export_for_creator(studio, draft.id)
    assert second.name == "Beach day 1 (2).mp4" and first.is_file()   # the first is never overwritten
    assert draft.id not in first.name
    assert not list((tmp_path / "Videos").glob(".*partial*"))
    # uploads still freeze their own export in staging
    assert not list(studio.layout.staging.glob("*.mp4"))


def test_cli_render_without_output_writes_to_the_export_folder(cli, shared_media, tmp_path):
    exports = tmp_path / "exports"
    r = cli("drafts", "import", str(shared_media / "realshort.mp4"), "--json")
    assert r.returncode == 0, r.stderr
    draft_id = json.loads(r.stdout)["id"]
    r = cli("render", draft_id, env={"STUDIO_EXPORT_DIR": str(exports)})
    assert r.returncode == 0, r.stderr
    written = list(exports.glob("*.mp4"))
    assert len(written) == 1 and draft_id not in written[0].name
    assert r.stdout.startswith(f"Wrote {written[0]} (")
    r = cli("render", draft_id, "--json", env={"STUDIO_EXPORT_DIR": str(exports)})
    path = Path(json.loads(r.stdout)["path"])
    assert path.name == written[0].stem + " (2).mp4" and path.is_file()
