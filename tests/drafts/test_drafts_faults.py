"""Bad conditions get a clear sentence and lose nothing: disk full, read-only, newer or corrupt database."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from studio.app import build
from studio.drafts import DiskFullError, ReadOnlyError
from studio.drafts import fsops


def library_state(studio) -> dict:
    """Every draft with its media bytes' hashes: what "nothing lost" compares."""
    out = {}
    for d in studio.drafts.list_drafts(limit=10_000):
        out[d.id] = [hashlib.sha256(studio.drafts.asset_path(a).read_bytes()).hexdigest() for a in d.assets]
    return out


def assert_clean(studio) -> None:
    from studio.drafts.recovery import library_files

    owned = {a.path for d in studio.drafts.list_drafts(limit=10_000) for a in d.assets}
    assert set(library_files(studio.drafts)) == owned, "no half-saved media left behind"
    assert list(studio.drafts.staging_root.iterdir()) == []


def test_disk_full_fault_injection(studio, shared_media, monkeypatch):
    studio.drafts.import_files([shared_media / "minimal.mp4"])
    before = library_state(studio)

    def full(f, data):
        if len(data) > 4096:  # media bytes, not the small journal
            raise OSError(errno.ENOSPC, "No space left on device")
        f.write(data)

    monkeypatch.setattr(fsops, "write_chunk", full)
    with pytest.raises(DiskFullError) as e:
        studio.drafts.import_files([shared_media / "cockatoo.mp4"])
    assert "full" in str(e.value) and "untouched" in str(e.value)
    assert library_state(studio) == before
    assert_clean(studio)
    monkeypatch.undo()
    assert studio.drafts.import_files([shared_media / "cockatoo.mp4"]).assets


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 3 MiB filesystem (root only); skipped cleanly where mounting is impossible."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_on_a_real_small_filesystem(small_tmpfs, shared_media):
    studio = build(small_tmpfs / "profile")
    try:
        first = studio.drafts.import_files([shared_media / "minimal.mp4"])
        refused = None
        for _ in range(10):
            try:
                studio.drafts.import_files([shared_media / "cockatoo.mp4"])
            except DiskFullError as e:
                refused = e
                break
        assert refused is not None and "full" in str(refused)
        state = library_state(studio)
        assert first.id in state
        assert_clean(studio)
    finally:
        studio.close()
    reopened = build(small_tmpfs / "profile")
    try:
        assert library_state(reopened) == state
        assert reopened.drafts.last_recovery["ok"]
    finally:
        reopened.close()


def test_read_only_media_folder_while_open(small_tmpfs, shared_media):
    studio = build(small_tmpfs / "profile")
    media = studio.layout.media
    try:
        d = studio.drafts.import_files([shared_media / "minimal.mp4"])
        before = library_state(studio)
        subprocess.run(["mount", "--bind", str(media), str(media)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(media)], check=True)
            with pytest.raises(ReadOnlyError) as e:
                studio.drafts.import_files([shared_media / "realshort.mp4"])
            assert "cannot be written" in str(e.value) and "untouched" in str(e.value)
            assert studio.drafts.get(d.id).assets and library_state(studio) == before
        finally:
            subprocess.run(["umount", str(media)], check=True)
        assert library_state(studio) == before
        assert_clean(studio)
    finally:
        studio.close()


def test_read_only_data_folder_at_start(small_tmpfs, shared_media):
    from studio import paths
    from studio.app import Studio

    studio = build(small_tmpfs / "profile")
    studio.drafts.import_files([shared_media / "minimal.mp4"])
    before = library_state(studio)
    studio.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    try:
        ro = Studio(paths.resolve(small_tmpfs / "profile"))
        with pytest.raises(ReadOnlyError) as e:
            ro.drafts  # noqa: B018 - opening checks the folder first
        assert "cannot be written" in str(e.value) and "writable" in str(e.value)
        ro.close()
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_tmpfs)], check=True)
    again = build(small_tmpfs / "profile")
    try:
        assert library_state(again) == before
    finally:
        again.close()


def test_newer_schema_is_refused_and_left_untouched(data_dir, cli, shared_media):
    assert cli("drafts", "import", str(shared_media / "minimal.mp4"), "--json").returncode == 0
    db = data_dir / "studio.db"
    con = sqlite3.connect(db)
    con.execute("update alembic_version set version_num='9999'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = db.read_bytes()
    media_before = sorted(p.name for p in (data_dir / "media").rglob("*.mp4"))
    r = cli("drafts", "list", "--json")
    assert r.returncode != 0
    assert "newer version" in json.loads(r.stdout.splitlines()[-1])["error"]
    assert db.read_bytes() == before
    assert sorted(p.name for p in (data_dir / "media").rglob("*.mp4")) == media_before


def test_corrupt_database_is_kept_and_media_recovered_after_agreeing(data_dir, cli, shared_media):
    r = cli("drafts", "import", str(shared_media / "minimal.mp4"), "--title", "precious", "--json")
    media = json.loads(r.stdout)["media"][0]
    db = data_dir / "studio.db"
    for side in ("studio.db-wal", "studio.db-shm"):
        (data_dir / side).unlink(missing_ok=True)
    db.write_bytes(b"this is not sqlite " * 100)
    r = cli("drafts", "list")
    assert r.returncode != 0 and "not a Reel Studio database" in r.stderr and "--reset-database" in r.stderr
    assert db.read_bytes().startswith(b"this is not sqlite") and (data_dir / media).exists()
    r = cli("--reset-database", "drafts", "recover", "--json")
    report = json.loads(r.stdout)
    assert report["recovered_files"] == [media], "the media of the lost database is adopted, not deleted"
    assert list(data_dir.glob("studio.db.damaged-*")), "the damaged file is kept aside"
    listed = json.loads(cli("drafts", "list", "--json").stdout)
    assert [d["title"] for d in listed] == ["Recovered"] and listed[0]["media"] == [media]


def test_a_drafts_migration_killed_half_way_finishes_on_next_start(tmp_path):
    """SQLite's driver commits each CREATE TABLE on its own: 0002 must finish what a kill interrupted."""
    from alembic import command
    from sqlalchemy import inspect

    from studio.db import head_revision, open_database
    from studio.db.engine import make_engine
    from studio.db.migrate import _alembic_config

    db = tmp_path / "studio.db"
    engine = make_engine(db)
    command.upgrade(_alembic_config(engine), "0001")
    with engine.begin() as c:  # what a kill after 0002's first statement leaves behind
        c.exec_driver_sql("CREATE TABLE drafts (id VARCHAR(32) PRIMARY KEY, title VARCHAR(200) NOT NULL, "
                          "status VARCHAR(16) NOT NULL DEFAULT 'draft', created_us BIGINT NOT NULL, "
                          "updated_us BIGINT NOT NULL, deleted_us BIGINT, edit_json TEXT NOT NULL, "
                          "revision INTEGER NOT NULL DEFAULT 1, cover_time_us BIGINT NOT NULL DEFAULT 0, "
                          "lqip VARCHAR(128), duration_us BIGINT NOT NULL DEFAULT 0, "
                          "media_bytes BIGINT NOT NULL DEFAULT 0)")
    engine.dispose()
    engine = open_database(db, tmp_path / "backups")
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"drafts", "media_assets", "draft_assets", "draft_revisions"} <= tables
        with engine.connect() as c:
            assert c.exec_driver_sql("select version_num from alembic_version").scalar() == head_revision()
    finally:
        engine.dispose()
