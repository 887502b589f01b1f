"""The root of every error Reel Studio raises: ``StudioError`` carries a sentence for the creator.

Every typed error of the app derives from :class:`StudioError` (directly, or through its area's base:
``DraftError``, ``CaptureError``, ``UploadError``, ``MediaError``, ``DatabaseError``...). A class that
must also stay catchable as a built-in type keeps it as a second base (``DraftNotFound`` is a
``KeyError``, ``MediaError`` a ``ValueError``), so existing ``except`` clauses keep working.

``user_message`` is what the UI shows and the CLI prints; it never contains a secret. The CLI turns
any StudioError into ``studio: <sentence>`` and exit status 1 (2 for bad input, see ``BadInput``).
"""

from __future__ import annotations


class StudioError(Exception):
    """Something the creator can act on. ``user_message`` is the sentence to show (``str(e)`` by default)."""

    def __init__(self, user_message: str | None = None, *args: object):
        super().__init__(*((user_message, *args) if user_message is not None else args))
        self._user_message = user_message

    @property
    def user_message(self) -> str:
        message = getattr(self, "_user_message", None)
        return message if message is not None else Exception.__str__(self)

    @user_message.setter
    def user_message(self, value: str) -> None:
        self._user_message = value


class BadInput(StudioError):
    """An argument or a file the user gave cannot be used; the CLI exits 2 with the sentence."""


class DiskFullError(StudioError):
    """The disk (or quota) is full: nothing was changed; the sentence says where and what to free."""


class ReadOnlyError(StudioError):
    """A folder cannot be written to (read-only, or no permission); nothing was changed."""


class DatabaseBusyError(StudioError):
    """Another program held studio.db for longer than the bounded wait; nothing was changed."""


def user_message(exc: BaseException, unexpected: str | None = None) -> str:
    """The sentence for ``exc``: its ``user_message`` when it has one; else ``unexpected`` when given
    (the caller's sentence for an error nobody anticipated), else ``str(exc)``."""
    return getattr(exc, "user_message", None) or unexpected or str(exc) or exc.__class__.__name__
