"""Imports every module that defines tables, so Base.metadata is complete (Alembic autogenerate)."""

from studio.db.engine import Base  # noqa: F401
