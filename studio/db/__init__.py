"""The SQLite database: engine, declarative base, and migrations applied at start.

One file, ``data/studio.db``, in WAL mode with foreign keys on and ``synchronous=FULL`` (a commit
survives a power cut). Schema changes are Alembic revisions under ``migrations/versions``; before
one is applied the database is copied aside to ``data/backups``.
"""

from studio.db.engine import Base, make_engine
from studio.db.migrate import (DatabaseError, DatabaseNewerError, NotADatabaseError, current_revision,
                               database_status, head_revision, open_database)

__all__ = ["Base", "make_engine", "DatabaseError", "DatabaseNewerError", "NotADatabaseError",
           "current_revision", "database_status", "head_revision", "open_database"]
