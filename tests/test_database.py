"""The database layer's safety rules: migrate with a backup, refuse newer, keep damaged files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.db import (DatabaseNewerError, NotADatabaseError, current_revision, database_status, head_revision,
                       open_database)


def test_fresh_database_is_wal_with_foreign_keys_and_full_sync(tmp_path: Path):
    engine = open_database(tmp_path / "s.db", tmp_path / "backups")
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_newer_database_is_refused_and_left_untouched(tmp_path: Path):
    db = tmp_path / "s.db"
    open_database(db, tmp_path / "b").dispose()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num='9999_future'")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(DatabaseNewerError, match="newer version"):
        open_database(db, tmp_path / "b")
    assert db.read_bytes() == before
    assert database_status(db)["ok"] is False


def test_not_a_database_is_kept_until_the_user_agrees(tmp_path: Path):
    db = tmp_path / "s.db"
    db.write_bytes(b"this is a holiday photo, not a database" * 100)
    with pytest.raises(NotADatabaseError, match="--reset-database"):
        open_database(db, tmp_path / "b")
    assert db.read_bytes().startswith(b"this is a holiday photo")
    engine = open_database(db, tmp_path / "b", reset_corrupt=True)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("s.db.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is a holiday photo")


def _database_at(path: Path, revision: str) -> None:
    """A database as an older app version left it: migrated only up to ``revision``."""
    from alembic import command

    from studio.db.migrate import _alembic_config
    from studio.db.engine import make_engine

    engine = make_engine(path)
    command.upgrade(_alembic_config(engine), revision)
    engine.dispose()


def test_migration_backs_the_database_up_first(tmp_path: Path):
    if head_revision() == "0001":
        pytest.skip("only one revision so far: nothing to migrate")
    db = tmp_path / "s.db"
    _database_at(db, "0001")
    con = sqlite3.connect(db)
    con.execute("INSERT INTO app_meta(key, value) VALUES ('probe', 'kept')")
    con.commit()
    con.close()
    engine = open_database(db, tmp_path / "b")
    assert current_revision(engine) == head_revision()
    engine.dispose()
    backups = list((tmp_path / "b").glob("studio-before-*.db"))
    assert len(backups) == 1
    saved = sqlite3.connect(backups[0])
    assert saved.execute("SELECT value FROM app_meta").fetchone() == ("kept",)
    assert saved.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert sqlite3.connect(db).execute("SELECT value FROM app_meta").fetchone() == ("kept",)


def test_schema_changes_are_all_or_nothing(tmp_path: Path):
    """DDL runs inside the transaction: a migration killed half-way leaves the old schema intact."""
    from sqlalchemy import text

    from studio.db.engine import make_engine

    engine = make_engine(tmp_path / "s.db")
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE half_done (id INTEGER)"))
            raise RuntimeError("killed mid-migration")
    with engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars().all()
    assert "half_done" not in names
    engine.dispose()


def test_cli_explains_a_damaged_database(cli, data_dir: Path):
    (data_dir / "studio.db").write_bytes(b"garbage" * 50)
    r = cli("doctor", "--json")
    assert r.returncode == 1 and "not a SQLite database" in r.stdout


def test_the_cheap_revision_scan_agrees_with_alembic(tmp_path: Path):
    """Opening a database at head skips Alembic: its scan of migrations/versions must give Alembic's
    own answer (the chain, its order, its head) and read the same current revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from studio.db.migrate import _alembic_config, _revisions, known_revisions

    script = ScriptDirectory.from_config(_alembic_config())
    chain = [s.revision for s in reversed(list(script.walk_revisions()))]
    assert _revisions() == chain and head_revision() == script.get_current_head()
    assert known_revisions() == set(chain)
    engine = open_database(tmp_path / "studio.db", tmp_path / "backups")
    with engine.connect() as conn:
        assert current_revision(engine) == MigrationContext.configure(conn).get_current_revision() == chain[-1]
    engine.dispose()
