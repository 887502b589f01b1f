"""Drafts: the crash-safe draft store, the media library, recovery, thumbnails and placeholders."""

from studio.drafts.types import (AmbiguousDraftId, DiskFullError, Draft, DraftError, DraftNotFound, MediaAsset,
                                 ReadOnlyError, RevisionConflict, storage_error)

__all__ = ["AmbiguousDraftId", "DiskFullError", "Draft", "DraftError", "DraftNotFound", "DraftStore", "MediaAsset",
           "ReadOnlyError", "RevisionConflict", "open_store"]


def __getattr__(name: str):
    # DraftStore pulls in SQLAlchemy; importing the package for its types stays cheap.
    if name == "DraftStore":
        from studio.drafts.store import DraftStore  # noqa: PLC0415 - heavy (SQLAlchemy, numpy)

        return DraftStore
    raise AttributeError(name)


def open_store(layout, engine_factory, **kwargs):  # noqa: ANN001, ANN003
    """Check the data folder is writable, then open the store (recovery runs here)."""
    import os
    import tempfile

    from studio.drafts.store import DraftStore  # noqa: PLC0415 - heavy (SQLAlchemy, numpy): opening pays for it

    try:
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=layout.data)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise storage_error(e, layout.data, "opening the drafts") from e
    return DraftStore(layout, engine_factory(), **kwargs)
