from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every table (drafts, media assets, upload jobs...)."""


def make_engine(path: Path, *, readonly: bool = False) -> Engine:
    """An engine for the SQLite file at ``path`` with our durability pragmas on every connection."""
    url = f"sqlite:///file:{path}?mode=ro&uri=true" if readonly else f"sqlite:///{path}"
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
        # Python's sqlite3 only opens a transaction before INSERT/UPDATE/DELETE, so DDL (migrations)
        # would commit statement by statement and a kill mid-migration would leave half a schema.
        # Take transaction control ourselves: SQLAlchemy's BEGIN below covers every statement.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not readonly:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001 - SQLAlchemy Connection
        conn.exec_driver_sql("BEGIN")

    return engine
