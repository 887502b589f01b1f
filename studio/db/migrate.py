"""Open the database and bring its schema to our head revision, safely.

- A file that is not SQLite is reported and kept; a fresh database is created only when the caller
  says the user agreed (``reset_corrupt=True``), after moving the bad file aside.
- A database stamped with a revision this app does not know was written by a newer version: it is
  refused and left untouched.
- Before any migration runs, the database is copied aside with SQLite's online backup.
- Two processes starting at once (the app and a CLI command) never migrate together: the check and
  the upgrade run under a cross-process file lock (``studio.db.migrate.lock`` beside the database),
  and the upgrade's transaction begins IMMEDIATE.
- Opening a database that is already at head never imports Alembic (≈0.3 s of every start): the
  revisions are the files in ``migrations/versions`` (``NNNN_name.py`` with ``revision = "NNNN"``,
  one line from 0001; ``tests/test_database.py`` checks the scan against Alembic's own reading),
  and the current one is read from ``alembic_version`` with plain SQL. Alembic runs only to migrate.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from studio import durable
from studio.db.engine import make_engine
from studio.errors import StudioError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseError(StudioError, RuntimeError):
    """The database cannot be opened; the message says what to do."""


class NotADatabaseError(DatabaseError):
    def __init__(self, path: Path):
        super().__init__(
            f"{path} is not a Reel Studio database (it is damaged or was replaced). It has been kept as it is. "
            "Start with a fresh database to continue (the damaged file is moved aside, not deleted): "
            "in the app, accept the prompt; on the command line, add --reset-database.")
        self.path = path


class DatabaseNewerError(DatabaseError):
    def __init__(self, path: Path, revision: str):
        super().__init__(
            f"{path} was written by a newer version of Reel Studio (schema {revision}). "
            "It has been left untouched. Update Reel Studio to open it.")
        self.path = path
        self.revision = revision


def _alembic_config(engine: Engine | None = None):  # noqa: ANN202 - alembic.config.Config
    from alembic.config import Config   # only to migrate: see the module's docstring

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def _revisions() -> list[str]:
    """Our revisions in order, from the migration files' names (each ``revision`` is its prefix)."""
    return sorted(f.name.split("_", 1)[0] for f in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def head_revision() -> str:
    return _revisions()[-1]


def known_revisions() -> set[str]:
    return set(_revisions())


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None when it was never migrated). Raises sqlite3's DatabaseError
    (through SQLAlchemy) for a file that is not a database."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError as e:
            if "no such table" in str(e):
                return None
            raise


def looks_like_sqlite(path: Path) -> bool:
    """Whether ``path`` is a SQLite database (or empty: SQLite starts one there).

    Asked of SQLite itself, never with open()/close() of our own: closing any descriptor of the
    database file releases every POSIX lock this process holds on it, under connections that are
    still open, and their next access fails with "disk I/O error"."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return True
    except sqlite3.DatabaseError as e:
        return "not a database" not in str(e) and "encrypted" not in str(e)
    finally:
        conn.close()


def _backup(path: Path, backups: Path, label: str) -> Path:
    backups.mkdir(parents=True, exist_ok=True)
    dest = backups / f"studio-{label}-{time.strftime('%Y%m%d-%H%M%S')}.db"
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(dest)
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()
    return dest


def _set_aside(path: Path) -> Path:
    dest = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(dest)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(dest.with_name(dest.name + suffix))
    return dest


def open_database(path: Path, backups: Path, *, reset_corrupt: bool = False) -> Engine:
    """Open ``path``, migrate it to head and return an engine.

    Raises NotADatabaseError (file kept) or DatabaseNewerError (file untouched), and OSError when the
    folder is not writable.
    """
    path = Path(path)
    with durable.locked(migration_lock_path(path)):
        return _open_locked(path, backups, reset_corrupt=reset_corrupt)


def migration_lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".migrate.lock")


def _open_locked(path: Path, backups: Path, *, reset_corrupt: bool) -> Engine:
    if not looks_like_sqlite(path):
        if not reset_corrupt:
            raise NotADatabaseError(path)
        moved = _set_aside(path)
        log.warning("database %s was not SQLite; moved aside to %s and starting fresh", path, moved)
    engine = make_engine(path)
    try:
        current = current_revision(engine)
    except Exception as e:  # sqlite3.DatabaseError: "file is not a database" past the header
        engine.dispose()
        if not reset_corrupt:
            raise NotADatabaseError(path) from e
        moved = _set_aside(path)
        log.warning("database %s unreadable (%s); moved aside to %s", path, e, moved)
        engine = make_engine(path)
        current = None
    head = head_revision()
    if current is not None and current not in known_revisions():
        engine.dispose()
        raise DatabaseNewerError(path, current)
    if current != head:
        if current is not None:
            saved = _backup(path, backups, f"before-{head}")
            log.info("database backed up to %s before migrating %s -> %s", saved, current, head)
        from alembic import command   # only to migrate: see the module's docstring

        command.upgrade(_alembic_config(engine.execution_options(studio_write=True)), "head")
        log.info("database %s migrated to %s", path, head)
    return engine


def database_status(path: Path) -> dict:
    """Read-only status for `studio doctor`: never creates or migrates anything."""
    status = {"path": str(path), "exists": path.exists(), "head": head_revision()}
    if not path.exists():
        status.update(ok=True, state="not created yet (created on first start)", revision=None)
        return status
    if not looks_like_sqlite(path):
        status.update(ok=False, state="not a SQLite database", revision=None)
        return status
    try:
        engine = make_engine(path, readonly=True)
        rev = current_revision(engine)
        engine.dispose()
    except Exception as e:  # noqa: BLE001 - reported, not raised
        status.update(ok=False, state=f"unreadable: {e.__class__.__name__}", revision=None)
        return status
    if rev is not None and rev not in known_revisions():
        state, ok = "written by a newer version", False
    elif rev == status["head"]:
        state, ok = "ok", True
    else:
        state, ok = "will be migrated on next start", True
    status.update(ok=ok, state=state, revision=rev)
    return status
