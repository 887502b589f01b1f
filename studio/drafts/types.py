"""What the draft store hands out: frozen values detached from any DB session, and its errors."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from datetime import datetime, timezone

from studio.errors import DiskFullError, ReadOnlyError, StudioError

STATUSES = ("draft", "exporting", "queued", "published")
KINDS = ("video", "audio", "image")


def from_us(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, tz=timezone.utc)


@dataclass(frozen=True)
class MediaAsset:
    id: str
    path: str                  # relative to data/, forward slashes
    kind: str                  # "video" | "audio" | "image"
    size: int
    sha256: str | None         # None until hashed (a moved take is hashed after the save)
    duration_us: int
    width: int                 # display size, after rotation
    height: int
    fps: float
    rotation: int
    video_codec: str | None
    audio_codec: str | None
    has_audio: bool
    missing: bool = False

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Draft:
    id: str
    title: str
    status: str
    created_at: datetime
    updated_at: datetime
    edit: dict = field(hash=False, compare=False)
    revision: int = 1
    duration_us: int = 0
    media_bytes: int = 0
    lqip: str | None = None
    cover_time_us: int = 0
    assets: tuple[MediaAsset, ...] = ()
    media_missing: bool = False
    deleted_at: datetime | None = None

    def to_dict(self, *, with_edit: bool = False) -> dict:
        d = {"id": self.id, "title": self.title, "status": self.status,
             "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
             "deleted_at": self.deleted_at.isoformat() if self.deleted_at else None,
             "revision": self.revision, "duration_us": self.duration_us, "duration": self.duration_us / 1e6,
             "media_bytes": self.media_bytes, "lqip": self.lqip, "cover_time_us": self.cover_time_us,
             "media_missing": self.media_missing, "media": [a.path for a in self.assets],
             "assets": [a.to_dict() for a in self.assets]}
        if with_edit:
            d["edit"] = self.edit
        return d


class DraftError(StudioError, RuntimeError):
    """A draft operation the user can act on; ``str(e)`` is the sentence to show."""


class DraftNotFound(DraftError, KeyError):
    """No draft has this id (or the prefix is not an id). Still a KeyError for lookups that expect one."""

    def __init__(self, draft_id: str, message: str | None = None):
        self.draft_id = draft_id
        self.message = message or f"There is no draft “{draft_id}”. It may have been deleted; see `studio drafts list`."
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class AmbiguousDraftId(DraftError):
    pass


class RevisionConflict(DraftError):
    def __init__(self, draft_id: str, expected: int, actual: int):
        super().__init__(f"This draft was changed somewhere else (revision {actual}, you edited {expected}). "
                         "Reopen it to see the latest version.")
        self.draft_id, self.expected, self.actual = draft_id, expected, actual


def storage_error(exc: OSError, folder: object, doing: str) -> StudioError | OSError:
    """Turn a low-level OSError into a sentence the creator can act on (or return it unchanged)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"The disk holding {folder} is full, so {doing} did not happen. "
                             "Your existing drafts are untouched. Free some space (empty the Trash, "
                             "delete old exports) and try again.")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return ReadOnlyError(f"{folder} cannot be written to (read-only or no permission), so {doing} did not "
                             "happen. Your existing drafts are untouched. Make the folder writable, or start "
                             "with --data-dir pointing at a writable folder.")
    return exc
