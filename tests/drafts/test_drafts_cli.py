"""`studio drafts ...` as a user runs it: real processes, real files."""

from __future__ import annotations

import json


def j(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_import_list_show_rename_duplicate_delete_restore_purge(cli, data_dir, shared_media):
    new = j(cli("drafts", "import", str(shared_media / "video_rotation_90.mp4"), "--json"))
    draft_id = new["id"]
    assert len(draft_id) == 32
    listed = j(cli("drafts", "list", "--json"))
    assert len(listed) == 1
    item = listed[0]
    for key in ("id", "title", "updated_at", "duration", "status", "media"):
        assert key in item
    assert item["status"] == "draft" and (data_dir / item["media"][0]).is_file()
    assert (item["assets"][0]["width"], item["assets"][0]["height"]) == (60, 100)
    shown = j(cli("drafts", "show", draft_id[:8], "--json"))
    assert shown["edit"]["clips"][0]["asset_id"] == item["assets"][0]["id"] and shown["revisions"][0]["revision"] == 1
    assert j(cli("drafts", "rename", draft_id[:6], "Portrait test", "--json"))["title"] == "Portrait test"
    dup = j(cli("drafts", "duplicate", draft_id, "--json"))
    assert dup["media"] == item["media"], "duplicates share media"
    assert j(cli("drafts", "delete", draft_id, dup["id"], "--json"))["moved_to_trash"] == 2
    assert j(cli("drafts", "list", "--json")) == []
    assert len(j(cli("drafts", "list", "--trash", "--json"))) == 2
    assert j(cli("drafts", "restore", draft_id, "--json"))["restored"] == 1
    assert j(cli("drafts", "purge", "--all", "--json"))["drafts"] == 1
    assert [d["id"] for d in j(cli("drafts", "list", "--json"))] == [draft_id]
    human = cli("drafts", "list")
    assert "Portrait test" in human.stdout and draft_id[:8] in human.stdout


def test_refused_files_are_named_with_their_reason_and_add_nothing(cli, data_dir, shared_media, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all")
    cases = {"chunk_out_of_range.mp4": ("unreadable", "cannot be read"), "short-cenc.mp4": ("encrypted", "encrypted"),
             "bipbop_audioinit.mp4": ("no_video", "no video"), str(notes): (None, "notes.mp4"),
             "missing.mp4": ("missing", "does not exist")}
    paths = [name if name.startswith("/") else str(shared_media / name) for name in cases]
    r = cli("drafts", "import", *paths, "--json")
    assert r.returncode == 2, "nothing imported"
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["imported"] == [] and "Nothing was imported" in out["error"]
    assert [x["file"] for x in out["refused"]] == paths
    for refusal, (reason, words) in zip(out["refused"], cases.values()):
        assert words in refusal["error"], refusal
        assert reason is None or refusal["reason"] == reason, refusal
    assert "Traceback" not in r.stderr
    assert j(cli("drafts", "list", "--json")) == []
    assert not [p for p in (data_dir / "media").rglob("*") if p.is_file() and not p.name.startswith(".")]


def test_a_batch_keeps_every_good_file_and_lists_each_refused_one(cli, shared_media):
    names = ["minimal.mp4", "chunk_out_of_range.mp4", "realshort.mp4", "short-cenc.mp4", "white.mp4"]
    r = cli("drafts", "import", *[str(shared_media / n) for n in names])
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("3 drafts imported; 2 files refused: ")
    assert "chunk_out_of_range.mp4" in first and "cannot be read" in first
    assert "short-cenc.mp4" in first and "encrypted" in first
    listed = j(cli("drafts", "list", "--json"))
    assert sorted(d["title"] for d in listed) == ["minimal", "realshort", "white"]

    r = cli("drafts", "import", *[str(shared_media / n) for n in names], "--together", "--title", "Mix", "--json")
    out = j(r)
    assert out["ok"] is True and len(out["imported"]) == 1 and out["title"] == "Mix"
    assert len(out["assets"]) == 3 and [x["reason"] for x in out["refused"]] == ["unreadable", "encrypted"]
    assert out["summary"].startswith("1 draft imported with 3 clips; 2 files refused: ")


def test_unknown_or_ambiguous_ids_are_clear(cli):
    r = cli("drafts", "show", "abcdef")
    assert r.returncode == 1 and "There is no draft" in r.stderr
    r = cli("drafts", "rename", "ab", "x")
    assert r.returncode == 1 and "at least its first 6" in r.stderr


def test_recover_reports_unsaved_takes_and_adopts_orphans(cli, data_dir, shared_media):
    import shutil

    take = data_dir / "cache" / "takes" / "t1"
    take.mkdir(parents=True)
    shutil.copyfile(shared_media / "minimal.mp4", take / "take.mp4")
    (take / "manifest.json").write_text(json.dumps({"id": "t1", "state": "recording", "media": "take.mp4"}))
    (data_dir / "media").mkdir(exist_ok=True)
    shutil.copyfile(shared_media / "realshort.mp4", data_dir / "media" / "lost.mp4")
    report = j(cli("drafts", "recover", "--json"))
    assert [t["id"] for t in report["unsaved_takes"]] == ["t1"]
    assert report["recovered_files"] == ["media/lost.mp4"] and report["recovered_draft"]
    again = j(cli("drafts", "recover", "--json"))
    assert again["recovered_files"] == [] and again["ok"]
    assert "Unsaved take" in cli("drafts", "recover").stdout


def test_edit_document_commands_are_drafts_subcommands_and_no_service_imports_the_cli():
    import pathlib

    from studio.cli import build_parser

    for action in ("export-edit", "import-edit", "export-otio", "cover"):
        args = build_parser().parse_args(["drafts", action, "abcdef", *(["x.json"] if action == "import-edit" else []),
                                          *(["-o", "x"] if action in ("export-otio", "cover") else [])])
        assert args.drafts_command == action
    root = pathlib.Path(__file__).resolve().parents[2] / "studio"
    offenders = [str(p.relative_to(root)) for area in ("editor", "drafts") for p in (root / area).rglob("*.py")
                 if "from studio.cli" in p.read_text(encoding="utf-8") or "import studio.cli" in p.read_text(encoding="utf-8")]
    assert offenders == [], "services are below the CLI"
