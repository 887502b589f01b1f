"""The backend's own database (SQLite by default, PostgreSQL by URL) and its schema.

The schema is SQLAlchemy metadata plus a one-row version table: a fresh database is created at the
current version; an older one is brought up by the steps in ``_UPGRADES``; a newer one is refused
untouched (an older backend must not write a schema it does not know).
"""

from __future__ import annotations

import time

from sqlalchemy import (BigInteger, Column, Index, Integer, MetaData, String, Table, Text, create_engine, event, insert,
                        inspect, select)
from sqlalchemy.engine import Engine

from studio.backend.errors import SchemaNewerError

SCHEMA_VERSION = 1
metadata = MetaData()

schema_version = Table("backend_schema", metadata, Column("version", Integer, nullable=False))

devices = Table(
    "devices", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
)

uploads = Table(
    "uploads", metadata,
    Column("upload_id", String(1024), primary_key=True),
    Column("key", Text, nullable=False),
    Column("device_id", String(32), nullable=False, index=True),
    Column("filename", Text, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("metadata_json", Text, nullable=False),
    Column("declared_size", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),          # open | completed | aborted
    Column("created_us", BigInteger, nullable=False),
    Column("completed_us", BigInteger, nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("etag", Text, nullable=True),
    Column("storage_confirmed_us", BigInteger, nullable=True),   # the filer's notification saw the object
    Column("client_ref", String(1024), nullable=True),   # the client's own name for it: a repeated create resumes
    Index("ix_uploads_ref", "device_id", "client_ref"),
)

outbox = Table(
    "webhook_outbox", metadata,
    Column("id", String(32), primary_key=True),
    Column("upload_id", String(1024), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("signed", Integer, nullable=False),
    Column("state", String(16), nullable=False),           # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("lease_until_us", BigInteger, nullable=False, default=0),   # an instance is delivering it
    Column("last_error", Text, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("delivered_us", BigInteger, nullable=True),
)

_UPGRADES: dict[int, object] = {}   # version -> fn(connection) bringing it to version + 1


def now_us() -> int:
    return time.time_ns() // 1000


def open_database(url: str) -> Engine:
    """An engine for ``url`` with the schema at SCHEMA_VERSION. A bare path is a SQLite file.

    Raises SchemaNewerError for a database of a newer backend; SQLAlchemy's errors for a bad URL or
    a missing driver (PostgreSQL needs ``psycopg``)."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
            # WAL: instances on one file read while another writes; a busy writer is waited for.
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")
            dbapi_conn.isolation_level = None   # BEGIN is ours (IMMEDIATE for writes, below)

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001 - Connection
            # writes take the write lock first (waited for by busy_timeout); a deferred read-then-write
            # would fail at once with SQLITE_BUSY_SNAPSHOT when another instance wrote in between
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("backend_write") else "BEGIN")
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _ensure_schema(engine)
    return engine


def writes(engine: Engine) -> Engine:
    """The engine for write transactions (``with writes(db).begin() as conn``): IMMEDIATE on SQLite."""
    return engine.execution_options(backend_write=True)


def _ensure_schema(engine: Engine) -> None:
    with writes(engine).begin() as conn:
        if not inspect(conn).has_table("backend_schema"):
            metadata.create_all(conn)
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            return
        version = conn.execute(select(schema_version.c.version)).scalar_one()
        if version > SCHEMA_VERSION:
            raise SchemaNewerError(f"This backend database has schema version {version}, newer than this backend "
                                   f"({SCHEMA_VERSION}); it was left untouched. Run the newer backend.")
        while version < SCHEMA_VERSION:
            _UPGRADES[version](conn)   # type: ignore[operator]
            version += 1
            conn.execute(schema_version.update().values(version=version))
        metadata.create_all(conn)   # tables added since (create_all skips existing ones)
