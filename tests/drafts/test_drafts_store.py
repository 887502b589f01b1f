"""DraftStore: saving, moving takes, the initial edit, revisions, trash, duplicates, sharing, paging."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from studio.drafts import DraftNotFound, RevisionConflict
from studio.drafts.store import KEEP_REVISIONS
from studio.editor.document import CURRENT_VERSION, Edit
from studio.media.probe import MediaError

from helpers_drafts import make_take
from studio.capture.recorder import Take


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_import_copies_hashes_and_writes_the_initial_edit(studio, shared_media):
    src = shared_media / "cockatoo.mp4"
    d = studio.drafts.import_files([src])
    assert len(d.id) == 32 and int(d.id, 16) >= 0
    assert d.title == "cockatoo" and d.status == "draft" and d.revision == 1
    assert d.created_at.tzinfo is not None and d.updated_at.utcoffset().total_seconds() == 0
    (a,) = d.assets
    path = studio.drafts.asset_path(a)
    assert path.is_file() and path.stat().st_size == a.size == src.stat().st_size
    assert a.sha256 == sha(src)
    assert (a.kind, a.width, a.height, a.duration_us, a.has_audio) == ("video", 1280, 720, 14_000_000, True)
    assert src.exists(), "import copies; the user's file stays"
    # The edit is the editor's own initial document (current schema), one whole clip of the file.
    edit = Edit.from_dict(d.edit)
    assert d.edit["schema_version"] == CURRENT_VERSION and edit.to_dict() == d.edit
    assert [(c.asset_id, c.source_in_us, c.source_out_us, c.speed) for c in edit.clips] == [(a.id, 0, 14_000_000, 1.0)]
    assert (edit.canvas.width, edit.canvas.height, edit.canvas.fps) == (1080, 1920, 30) and edit.cover.time_us == 0
    assert d.duration_us == 14_000_000 and d.media_bytes == a.size
    assert d.lqip and 20 <= len(d.lqip) <= 40
    assert studio.drafts.thumbnail(d).is_file()


def test_rotated_video_is_portrait(studio, shared_media):
    d = studio.drafts.import_files([shared_media / "video_rotation_90.mp4"])
    (a,) = d.assets
    assert (a.width, a.height, a.rotation) == (60, 100, 90)
    from PIL import Image

    with Image.open(studio.drafts.thumbnail(d)) as im:
        assert im.height > im.width


@pytest.mark.parametrize("name, reason, words", [
    ("chunk_out_of_range.mp4", "unreadable", "cannot be read"),
    ("short-cenc.mp4", "encrypted", "encrypted"),
    ("bipbop_audioinit.mp4", "no_video", "no video"),
])
def test_invalid_media_refused_nothing_added(studio, shared_media, name, reason, words):
    good = shared_media / "minimal.mp4"
    with pytest.raises(MediaError) as e:
        studio.drafts.import_files([good, shared_media / name])
    assert e.value.reason == reason and words in str(e.value) and name in str(e.value)
    assert studio.drafts.list_drafts() == []
    assert not [p for p in studio.layout.media.rglob("*") if p.is_file() and not p.name.startswith(".")]


def test_take_is_moved_not_copied_and_its_folder_removed(studio, shared_media):
    take = make_take(studio.layout, shared_media, "realshort.mp4")
    inode, size, digest = take.stat().st_ino, take.stat().st_size, sha(take)
    d = studio.drafts.save_takes([Take.from_folder(take.parent)])
    (a,) = d.assets
    moved = studio.drafts.asset_path(a)
    assert moved.stat().st_ino == inode, "same filesystem: renamed, not copied"
    assert not take.parent.exists()
    assert a.size == size and a.sha256 is None
    assert studio.drafts.wait_idle(30)
    d = studio.drafts.get(d.id)
    assert d.assets[0].sha256 == digest, "the background finisher records the hash"
    assert d.lqip


def test_save_without_move_copies(studio, shared_media):
    take = make_take(studio.layout, shared_media)
    d = studio.drafts.save_new_draft([take])
    assert take.exists() and d.assets[0].sha256 == sha(take)


def test_update_edit_keeps_unknown_fields_revisions_and_conflicts(studio, shared_media):
    store = studio.drafts
    d = store.import_files([shared_media / "minimal.mp4"])
    edit = {**d.edit, "future_field": {"nested": [1, 2]}, "caption": "hello"}
    rev = store.update_edit(d.id, edit, base_revision=1)
    assert rev == 2 and store.get(d.id).edit["future_field"] == {"nested": [1, 2]}
    with pytest.raises(RevisionConflict):
        store.update_edit(d.id, edit, base_revision=1)
    for i in range(KEEP_REVISIONS + 5):
        store.update_edit(d.id, {**edit, "caption": f"c{i}"})
    revs = [r for r, _ in store.revisions(d.id)]
    assert len(revs) == KEEP_REVISIONS and revs[0] == store.get(d.id).revision
    back = store.rollback(d.id, revs[-1])
    assert store.get(d.id).revision == back and store.get(d.id).edit["caption"] == "c5"


def test_trash_restore_purge_and_shared_assets(studio, shared_media):
    store = studio.drafts
    d = store.import_files([shared_media / "minimal.mp4"])
    copy = store.duplicate(d.id)
    assert copy.assets == d.assets and copy.title.endswith("(copy)")
    store.delete([d.id])
    assert [x.id for x in store.list_drafts()] == [copy.id]
    assert [x.id for x in store.list_drafts(trashed=True)] == [d.id]
    assert store.purge()["drafts"] == 0, "trashed just now: kept for 30 days"
    store.restore([d.id])
    assert {x.id for x in store.list_drafts()} == {d.id, copy.id}
    store.delete([d.id])
    report = store.purge(older_than_days=None)
    assert report["drafts"] == 1 and report["files"] == 0, "the duplicate still uses the media"
    path = store.asset_path(copy.assets[0])
    assert path.exists()
    store.delete([copy.id])
    assert store.purge(draft_ids=[copy.id], older_than_days=None)["files"] == 1
    assert not path.exists()
    with pytest.raises(DraftNotFound) as e:
        store.get(copy.id)
    assert "no draft" in str(e.value)


def test_rename_status_search_paging_and_prefix(studio, shared_media):
    store = studio.drafts
    made = [store.import_files([shared_media / "minimal.mp4"], title=f"Beach day {i}") for i in range(5)]
    store.rename(made[0].id, "  Sunset   walk ")
    assert store.get(made[0].id).title == "Sunset walk"
    with store.exporting(made[1].id):
        assert store.get(made[1].id).status == "exporting"
    assert store.get(made[1].id).status == "draft"
    newest_first = [d.id for d in store.list_drafts()]
    assert newest_first[:2] == [made[0].id, made[4].id], "a rename counts as a change; a status does not"
    assert [d.title for d in store.list_drafts(search="sunset")] == ["Sunset walk"]
    assert [d.title for d in store.list_drafts(search="100%")] == []
    assert len(store.list_drafts(offset=2, limit=2)) == 2 and store.count() == 5
    assert store.resolve_id(made[2].id[:8]) == made[2].id
    with pytest.raises(DraftNotFound):
        store.resolve_id("abc")


def test_add_asset_links_music(studio, shared_media):
    store = studio.drafts
    d = store.import_files([shared_media / "minimal.mp4"])
    music = store.add_asset(d.id, shared_media / "realshort.mp4", kind="audio")
    assert music.kind == "audio" and store.asset_path(music).exists()
    assert [a.id for a in store.get(d.id).assets][-1] == music.id
    with pytest.raises(MediaError):
        store.add_asset(d.id, shared_media / "white.mp4", kind="audio")


def test_all_writes_go_through_one_thread(studio, shared_media):
    """Every INSERT/UPDATE/DELETE the store runs, from any thread, executes on the one writer thread
    (watched at the SQL level, so a write that goes around the writer makes this fail)."""
    from sqlalchemy import event

    store = studio.drafts
    d = store.import_files([shared_media / "minimal.mp4"])
    seen = set()

    def spy(conn, cursor, statement, *_a):  # noqa: ANN001
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.add(threading.get_ident())

    event.listen(studio.engine, "before_cursor_execute", spy)
    try:
        threads = [threading.Thread(target=lambda i=i: [store.update_edit(d.id, {**d.edit, "caption": f"{i}-{k}"})
                                                        for k in range(5)]) for i in range(4)]
        threads.append(threading.Thread(target=lambda: store.rename(d.id, "other thread")))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        store.delete([d.id])
        store.restore([d.id])
    finally:
        event.remove(studio.engine, "before_cursor_execute", spy)
    assert len(seen) == 1 and threading.get_ident() not in seen and store.get(d.id).revision == 21


def test_edit_json_is_stored_whole(studio, shared_media):
    d = studio.drafts.import_files([shared_media / "minimal.mp4"])
    from sqlalchemy import text

    with studio.engine.connect() as c:
        stored = json.loads(c.execute(text("select edit_json from drafts where id=:i"), {"i": d.id}).scalar())
    assert stored == d.edit
