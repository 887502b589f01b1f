"""Builds the services once and hands them to the UI and the CLI.

Services are created lazily: a cold start shows the window without importing SQLAlchemy, boto3 or
OpenCV; the first page that needs a service pays for it (off the UI thread where it is slow).
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from studio import paths
from studio.errors import StudioError
from studio.paths import DataLayout

log = logging.getLogger(__name__)


class Studio:
    """The application's services, usable headless (CLI, tests) and by the GUI."""

    def __init__(self, layout: DataLayout, *, reset_database: bool = False):
        self.layout = layout
        self.reset_database = reset_database
        self._lock = threading.RLock()
        self._engine = None
        self._drafts = None

    @property
    def engine(self):
        """The migrated SQLAlchemy engine. Raises studio.db.DatabaseError (message for the user)."""
        with self._lock:
            if self._engine is None:
                from studio.db import open_database  # noqa: PLC0415 - heavy (SQLAlchemy, Alembic)

                self._engine = open_database(self.layout.database, self.layout.backups,
                                             reset_corrupt=self.reset_database)
            return self._engine

    # Upload services (studio.uploader): created on first use; none of them starts a thread by itself.
    @property
    def uploads(self):
        """The persistent upload queue (studio.uploader.queue.UploadQueue)."""
        with self._lock:
            if getattr(self, "_uploads", None) is None:
                from studio.uploader.queue import UploadQueue  # noqa: PLC0415 - heavy (SQLAlchemy)

                # the queue enqueues exports; the editor makes them (the uploader never imports the editor,
                # and uploading a file never loads it: Qt, NumPy and the decoder cost a CLI ~60 MiB)
                self._uploads = UploadQueue(self, exporter=functools.partial(_export_for_upload, self))
            return self._uploads

    @property
    def posts(self):
        """Published posts: bundle, upload as a group, links (studio.publish.posts.PostService)."""
        with self._lock:
            if getattr(self, "_posts", None) is None:
                from studio.publish.posts import PostService  # noqa: PLC0415 - heavy (SQLAlchemy)

                self._posts = PostService(self)
            return self._posts

    @property
    def targets(self):
        """Upload targets and their S3 clients (studio.uploader.targets.TargetStore)."""
        with self._lock:
            if getattr(self, "_targets", None) is None:
                from studio.uploader.targets import TargetStore  # noqa: PLC0415 - heavy (SQLAlchemy)

                self._targets = TargetStore(self)
            return self._targets

    @property
    def local_s3(self):
        """The embedded SeaweedFS launcher ("This computer"); starts the server only when asked."""
        with self._lock:
            if getattr(self, "_local_s3", None) is None:
                from studio.uploader.local_s3 import LocalS3  # noqa: PLC0415 - off the window's first paint

                self._local_s3 = LocalS3(self.layout.local_s3)
            return self._local_s3

    def _close_uploads(self) -> None:
        """Stop the local S3 we started: nothing uploads while we are closed (pending jobs restart it)."""
        s3 = getattr(self, "_local_s3", None)
        if s3 is not None and s3.started_here and not s3.keep_running:
            s3.stop()
        queue = getattr(self, "_uploads", None)
        if queue is not None:
            queue.release_runner()

    @property
    def drafts(self):
        """The DraftStore (studio.drafts). Opening it runs start-up recovery; its report is
        ``studio.drafts.last_recovery``. Raises ReadOnlyError / DatabaseError with a message for the user."""
        with self._lock:
            if self._drafts is None:
                from studio.drafts import open_store  # noqa: PLC0415 - off the window's first paint

                self._drafts = open_store(self.layout, lambda: self.engine)
            return self._drafts

    def close(self) -> None:
        with self._lock:
            self._close_uploads()
            if self._drafts is not None:
                self._drafts.close()
                self._drafts = None
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def _export_for_upload(studio: Studio, *args, **kwargs):  # noqa: ANN202 - studio.editor.export.ExportResult
    from studio.editor.export import export_for_upload  # noqa: PLC0415 - keeps Qt/editor out of the upload process

    return export_for_upload(studio, *args, **kwargs)


def build(data_dir: str | Path | None = None, *, reset_database: bool = False) -> Studio:
    """Resolve the data layout, create its folders and return the services."""
    layout = paths.resolve(data_dir)
    try:
        paths.confine_process_state(layout)
        layout.ensure()
    except OSError as e:
        raise DataDirError(layout.data, e) from e
    return Studio(layout, reset_database=reset_database)


class DataDirError(StudioError, OSError):
    """The data folder cannot be created or written; nothing in it was touched."""

    def __init__(self, where: Path, cause: OSError):
        reason = cause.strerror or str(cause)
        super().__init__(cause.errno, f"Reel Studio cannot write to its data folder {where} ({reason}). "
                                      "Your drafts there are untouched. Free some space, fix the folder's "
                                      "permissions, or choose another folder with --data-dir.")

        self.user_message = self.strerror

    def __str__(self) -> str:
        return self.strerror
