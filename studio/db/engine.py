from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

from studio.errors import DatabaseBusyError

# How long a write waits for another connection (this process or another) to finish its transaction
# before the creator is told. Each attempt lets SQLite's busy handler wait BUSY_STEP_MS; between
# attempts a short jittered pause. Reads never wait in WAL mode.
BUSY_WAIT_S = 60.0
BUSY_STEP_MS = 5000

_local = threading.local()


class Base(DeclarativeBase):
    """Declarative base shared by every table (drafts, media assets, upload jobs...)."""


def set_writer_thread(on: bool) -> None:
    """Mark the calling thread as the database writer: its transactions begin IMMEDIATE."""
    _local.writer = on


def on_writer_thread() -> bool:
    return getattr(_local, "writer", False)


def _is_busy(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    text = str(orig).lower()
    return "locked" in text or "busy" in text


def begin_immediate(dbapi_conn, *, wait_s: float | None = None) -> None:  # noqa: ANN001 - sqlite3.Connection
    """``BEGIN IMMEDIATE`` on a raw connection, retried within ``wait_s`` (default BUSY_WAIT_S), then
    DatabaseBusyError with a sentence."""
    deadline = time.monotonic() + (BUSY_WAIT_S if wait_s is None else wait_s)
    pause = 0.01
    while True:
        try:
            dbapi_conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or time.monotonic() >= deadline:
                if _is_busy(e):
                    raise busy_error() from e
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.5)


def busy_error() -> DatabaseBusyError:
    return DatabaseBusyError(
        f"Another Reel Studio window or command kept the database busy for over {BUSY_WAIT_S:.0f} seconds, "
        "so this change was not made. Nothing was lost; try again in a moment (close other copies of "
        "Reel Studio if it keeps happening).")


def make_engine(path: Path, *, readonly: bool = False) -> Engine:
    """An engine for the SQLite file at ``path`` with our durability pragmas on every connection.

    Transactions begin deferred (reads), except on the writer thread (studio.db.writer) or with the
    execution option ``studio_write=True``, where they begin IMMEDIATE with a bounded wait."""
    url = f"sqlite:///file:{path}?mode=ro&uri=true" if readonly else f"sqlite:///{path}"
    engine = create_engine(url, connect_args={"timeout": BUSY_STEP_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
        # Python's sqlite3 only opens a transaction before INSERT/UPDATE/DELETE, so DDL (migrations)
        # would commit statement by statement and a kill mid-migration would leave half a schema.
        # Take transaction control ourselves: SQLAlchemy's BEGIN below covers every statement.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not readonly:
            _retry_busy(lambda: cur.execute("PRAGMA journal_mode=WAL"))
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_STEP_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001 - SQLAlchemy Connection
        if not readonly and (on_writer_thread() or conn.get_execution_options().get("studio_write")):
            begin_immediate(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _retry_busy(fn) -> None:  # noqa: ANN001
    deadline = time.monotonic() + BUSY_WAIT_S
    while True:
        try:
            fn()
            return
        except (sqlite3.OperationalError, OperationalError) as e:
            if not _is_busy(e) or time.monotonic() >= deadline:
                if _is_busy(e):
                    raise busy_error() from e
                raise
        time.sleep(0.05 * (0.5 + random.random()))
