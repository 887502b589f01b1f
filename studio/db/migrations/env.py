"""Alembic environment: the engine is handed in by studio.db.migrate (never a URL from an ini file)."""

from alembic import context

import studio.db.models  # noqa: F401 - registers every table on Base.metadata
from studio.db.engine import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    # transactional_ddl: all revisions of one upgrade commit together or not at all (see make_engine).
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
