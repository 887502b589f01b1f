"""Builds the services once and hands them to the UI and the CLI.

Services are created lazily: a cold start shows the window without importing SQLAlchemy, boto3 or
OpenCV; the first page that needs a service pays for it (off the UI thread where it is slow).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from studio import paths
from studio.paths import DataLayout

log = logging.getLogger(__name__)


class Studio:
    """The application's services, usable headless (CLI, tests) and by the GUI."""

    def __init__(self, layout: DataLayout, *, reset_database: bool = False):
        self.layout = layout
        self.reset_database = reset_database
        self._lock = threading.RLock()
        self._engine = None

    @property
    def engine(self):
        """The migrated SQLAlchemy engine. Raises studio.db.DatabaseError (message for the user)."""
        with self._lock:
            if self._engine is None:
                from studio.db import open_database

                self._engine = open_database(self.layout.database, self.layout.backups,
                                             reset_corrupt=self.reset_database)
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def build(data_dir: str | Path | None = None, *, reset_database: bool = False) -> Studio:
    """Resolve the data layout, create its folders and return the services."""
    layout = paths.resolve(data_dir)
    paths.confine_process_state(layout)
    layout.ensure()
    return Studio(layout, reset_database=reset_database)
