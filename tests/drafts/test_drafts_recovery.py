"""Recovery: missing media flagged and relinked, orphans adopted, half-done saves settled, takes offered."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from studio.app import build
from studio.drafts.recovery import RECOVERED_TITLE

from helpers_drafts import make_take
from studio.capture.recorder import Take


def reopen(studio):
    studio.close()
    return build(studio.layout.data)


def test_nothing_wrong_is_a_no_op_and_idempotent(studio, shared_media):
    studio.drafts.import_files([shared_media / "minimal.mp4"])
    first = studio.drafts.recover()
    again = studio.drafts.recover()
    for r in (first, again):
        assert r["ok"] and not (r["staging"] or r["missing"] or r["relinked"] or r["recovered_draft"])


def test_missing_media_is_flagged_never_deleted_then_relinked_by_hash(studio, shared_media):
    store = studio.drafts
    d = store.import_files([shared_media / "realshort.mp4"])
    path = store.asset_path(d.assets[0])
    aside = studio.layout.data / "aside.mp4"
    shutil.move(path, aside)
    r = store.recover()
    assert not r["ok"] and r["missing"] == [{"asset_id": d.assets[0].id, "path": d.assets[0].path}]
    assert store.get(d.id).media_missing and store.get(d.id).assets[0].missing
    assert store.recover()["missing"], "still flagged, still there"
    elsewhere = studio.layout.media / "some" / "where" / "renamed.mp4"
    elsewhere.parent.mkdir(parents=True)
    shutil.move(aside, elsewhere)
    r = store.recover()
    assert r["relinked"] == [{"asset_id": d.assets[0].id, "path": "media/some/where/renamed.mp4"}]
    assert r["ok"] and r["recovered_draft"] is None
    again = store.get(d.id)
    assert not again.media_missing and store.asset_path(again.assets[0]) == elsewhere


def test_media_without_a_row_goes_into_a_recovered_draft(studio, shared_media):
    assert studio.drafts.last_recovery["recovered_draft"] is None
    stray = studio.layout.media / "ab" / "lost.mp4"
    stray.parent.mkdir(parents=True)
    shutil.copyfile(shared_media / "minimal.mp4", stray)
    (studio.layout.media / "notes.txt").write_text("kept too")
    r = studio.drafts.recover()
    assert r["recovered_draft"] and sorted(r["recovered_files"]) == ["media/ab/lost.mp4", "media/notes.txt"]
    d = studio.drafts.get(r["recovered_draft"])
    assert d.title == RECOVERED_TITLE and {a.path for a in d.assets} == set(r["recovered_files"])
    assert len(d.edit["clips"]) == 1, "only the video becomes a clip"
    assert stray.exists() and studio.drafts.recover()["recovered_draft"] is None


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even the store's own undo."""


def crash_save_at(monkeypatch, store, when):
    """Make the next save die at ``when``: "staged" (before the rows) or "renamed" (before the commit)."""
    from studio.drafts import store as store_mod

    monkeypatch.setattr(store, "reconcile_stage", lambda stage: None)  # a dead process cleans nothing
    if when == "staged":
        monkeypatch.setattr(store_mod, "asset_row", lambda a: (_ for _ in ()).throw(Crash()))
    else:
        real = store_mod.fsops.fsync_dir

        def fsync_dir(p):
            real(p)
            if p.parent == store.layout.media and p.name != ".staging":
                raise Crash()
        monkeypatch.setattr(store_mod.fsops, "fsync_dir", fsync_dir)


@pytest.mark.parametrize("when", ["staged", "renamed"])
def test_crashed_take_save_is_undone_and_the_take_offered_back(studio, shared_media, monkeypatch, when):
    store = studio.drafts
    keep = store.import_files([shared_media / "minimal.mp4"])
    take = make_take(studio.layout, shared_media, "realshort.mp4", "t-crash")
    size = take.stat().st_size
    with monkeypatch.context() as m:
        crash_save_at(m, store, when)
        with pytest.raises(Crash):
            store.save_takes([Take.from_folder(take.parent)])
    assert not take.exists(), "the take was moved before the crash"
    studio = reopen(studio)
    r = studio.drafts.last_recovery
    assert [s["action"] for s in r["staging"]] == ["undone"]
    assert take.is_file() and take.stat().st_size == size
    assert [t["id"] for t in r["unsaved_takes"]] == ["t-crash"]
    assert [d.id for d in studio.drafts.list_drafts()] == [keep.id]
    assert r["recovered_draft"] is None
    studio.close()


def test_crash_after_commit_is_finished(studio, shared_media, monkeypatch):
    store = studio.drafts
    take = make_take(studio.layout, shared_media, "realshort.mp4", "t-done")
    monkeypatch.setattr(store, "reconcile_stage", lambda stage: None)
    d = store.save_takes([Take.from_folder(take.parent)])
    monkeypatch.undo()
    assert take.parent.exists(), "cleanup never ran"
    studio = reopen(studio)
    r = studio.drafts.last_recovery
    assert [s["action"] for s in r["staging"]] == ["finished"] and r["unsaved_takes"] == []
    assert not take.parent.exists() and studio.drafts.get(d.id).assets[0].size == (shared_media / "realshort.mp4").stat().st_size
    studio.close()


def test_unsaved_takes_are_listed_saved_or_discarded(studio, shared_media):
    a = make_take(studio.layout, shared_media, "minimal.mp4", "ta")
    b = make_take(studio.layout, shared_media, "minimal.mp4", "tb")
    r = studio.drafts.recover()
    assert [t["id"] for t in r["unsaved_takes"]] == ["ta", "tb"]
    studio.drafts.save_takes([Take.from_folder(a.parent)])
    studio.drafts.discard_take(b.parent)
    assert studio.drafts.recover()["unsaved_takes"] == []
    with pytest.raises(Exception):
        studio.drafts.discard_take(studio.layout.media)


def test_opening_never_empties_the_trash_only_maintenance_or_purge_does(studio, shared_media, cli, caplog):
    """Recovery runs on every open, even `studio drafts list`: it must never delete anything."""
    import logging

    from sqlalchemy import update

    from studio.drafts.models import DraftRow

    d = studio.drafts.import_files([shared_media / "minimal.mp4"])
    studio.drafts.delete([d.id])
    with studio.engine.begin() as c:
        c.execute(update(DraftRow).values(deleted_us=DraftRow.deleted_us - 31 * 86_400 * 10**6))
    path = studio.drafts.asset_path(d.assets[0])
    studio.close()
    assert cli("drafts", "list", "--json").returncode == 0
    studio = reopen(studio)
    assert path.exists() and studio.drafts.list_drafts(trashed=True)[0].id == d.id
    with caplog.at_level(logging.INFO, logger="studio.drafts.store"):
        assert studio.drafts.maintenance()["drafts"] == 1
    assert not path.exists()
    assert any("maintenance" in r.getMessage() and "1 draft" in r.getMessage() for r in caplog.records)
    assert not [p for p in studio.layout.media.rglob("*") if p.is_file() and not p.name.startswith(".")]
    studio.close()


def test_a_take_whose_finalize_failed_keeps_its_raw_sound_when_saved(studio, shared_media):
    store = studio.drafts  # opened (recovery done) before the take appears: as if its finalize had failed
    take = studio.layout.takes / "crashed1"
    take.mkdir(parents=True)
    shutil.copyfile(shared_media / "minimal.mp4", take / "video.frag.mp4")
    (take / "audio.pcm").write_bytes(os.urandom(48_000 * 4))
    (take / "manifest.json").write_text(json.dumps({"id": "crashed1", "state": "recording",
                                                   "video": "video.frag.mp4", "media": "video.frag.mp4"}))
    d = store.save_takes([Take.from_folder(take)], title="half a take")
    assert store.get(d.id).assets, "the picture is saved"
    assert (take / "audio.pcm").stat().st_size == 48_000 * 4, "the raw sound must survive the save"
    assert (take / "video.frag.mp4").exists(), "the take stays whole until it is saved with its sound"


def test_purge_interrupted_after_commit_still_deletes(studio, shared_media, monkeypatch):
    store = studio.drafts
    d = store.import_files([shared_media / "minimal.mp4"])
    path = store.asset_path(d.assets[0])
    store.delete([d.id])
    monkeypatch.setattr(store, "_finish_purge", lambda stage, journal: None)
    store.purge(older_than_days=None)
    monkeypatch.undo()
    assert path.exists()
    studio = reopen(studio)
    assert [s["action"] for s in studio.drafts.last_recovery["staging"]] == ["purge-finished"]
    assert not path.exists() and studio.drafts.last_recovery["recovered_draft"] is None
    studio.close()
    assert os.listdir(studio.layout.media / ".staging") == []
